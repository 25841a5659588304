using Parley.Load;
using Parley.Load.Reporting;
using Parley.Load.Scenarios;
using Parley.Load.Server;

namespace Parley.Load.Tests;

/// <summary>
/// Every scenario in a tiny configuration against a real `parley serve` process: the counts must
/// add up (each message delivered and decrypted exactly once). No assertion on speed.
/// </summary>
public sealed class ScenarioTests : IDisposable
{
    private readonly DirectoryInfo data = Directory.CreateTempSubdirectory("parley-load-test-");

    [Fact]
    public async Task Throughput_DeliversEveryMessageOnceDecrypted()
    {
        var result = await RunAsync("sqlite", (server, settings, ct) =>
            ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 2, PerPair: 40, Window: 4), ct));

        AssertExactlyOnce(result, expected: 80);
        Assert.True(result.Get("delivered_msgs_per_s") > 0);

        // Every message wakes threads in both processes: a count of zero means /proc was misread.
        Assert.True(result.Get("server_context_switches_per_msg") > 0);
        Assert.True(result.Get("client_context_switches_per_msg") > 0);

        // Read from the server's /metrics: each message is at least its body, held while it is stored.
        Assert.True(result.Get("server_alloc_bytes_per_msg") > 256, $"server_alloc_bytes_per_msg = {result.Get("server_alloc_bytes_per_msg")}");
    }

    [Fact]
    public void ParseMetric_TakesTheUnlabelledSampleOfThatNameOnly()
    {
        const string exposition = """
            # HELP system_runtime_dotnet_gc_heap_total_allocated (By) bytes allocated
            # TYPE system_runtime_dotnet_gc_heap_total_allocated gauge
            system_runtime_dotnet_gc_heap_total_allocated_other 5
            system_runtime_dotnet_gc_heap_total_allocated{gc_heap_generation="gen0"} 7
            system_runtime_dotnet_gc_heap_total_allocated 1.2345678E+09
            """;

        Assert.Equal(1_234_567_800, ServerUnderTest.ParseMetric(exposition, "system_runtime_dotnet_gc_heap_total_allocated"));
        Assert.Null(ServerUnderTest.ParseMetric(exposition, "dotnet_total_memory_bytes"));
    }

    [Fact]
    public async Task Throughput_AfterAWarmUp_TimesAndCountsOnlyTheMeasuredMessages()
    {
        var result = await RunAsync("sqlite", (server, settings, ct) =>
            ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 2, PerPair: 30, Window: 4, Warmup: 25), ct));

        Assert.Equal(50, result.Get("warmup"));
        AssertExactlyOnce(result, expected: 60);
    }

    [Fact]
    public async Task Throughput_OnPostgres_DeliversEveryMessageOnceDecrypted()
    {
        string? serverData = null;
        var result = await RunAsync("postgres", (server, settings, ct) =>
        {
            serverData = Path.GetDirectoryName(server.CacheDirectory);
            return ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 2, PerPair: 20, Window: 4), ct);
        });

        AssertExactlyOnce(result, expected: 40);

        // The data directory made for the fresh database goes with it.
        Assert.NotEqual(data.FullName, serverData);
        Assert.False(Directory.Exists(serverData), $"{serverData} was left behind");
    }

    [Fact]
    public async Task Throughput_AcrossTwoNodes_DeliversEveryMessageOnceDecrypted()
    {
        // Each pair's sender and receiver on different nodes: every message crosses through Redis.
        var result = await RunAsync("postgres", (server, settings, ct) =>
        {
            Assert.Equal(2, server.Nodes);
            Assert.Equal("jit", server.Build);
            return ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 2, PerPair: 20, Window: 4), ct);
        }, nodes: 2);

        AssertExactlyOnce(result, expected: 40);
    }

    [Fact]
    public async Task Latency_RecordsEveryMessageAndTheRoundTrips()
    {
        var result = await RunAsync("sqlite", (server, settings, ct) =>
            LatencyScenario.RunAsync(server, settings, new LatencyScenario.Options(Pairs: 2, Rate: 100, Duration: TimeSpan.FromSeconds(0.5), RoundTrips: 5), ct));

        AssertExactlyOnce(result, expected: 50);
        Assert.True(result.Get("latency_ms_p50") > 0);
        Assert.True(result.Get("latency_ms_p999") >= result.Get("latency_ms_p50"));
        Assert.True(result.Get("rtt_ms_p50") > 0);

        // What a message costs at the offered rate, in both processes: zero means a misread.
        Assert.True(result.Get("server_cpu_us_per_msg") > 0);
        Assert.True(result.Get("client_cpu_us_per_msg") > 0);
        Assert.True(result.Get("server_context_switches_per_msg") > 0);
        Assert.True(result.Get("server_alloc_bytes_per_msg") > 256, $"server_alloc_bytes_per_msg = {result.Get("server_alloc_bytes_per_msg")}");
    }

    [Fact]
    public async Task Connections_HoldsEveryConnectionOpenAndReadsServerMemory()
    {
        var result = await RunAsync("sqlite", (server, settings, ct) =>
            ConnectionsScenario.RunAsync(server, settings, new ConnectionsScenario.Options(Connections: 6, Parallelism: 3, Settle: TimeSpan.FromMilliseconds(200)), ct));

        Assert.Equal(6, result.Get("open_after_settle"));
        Assert.NotNull(result.Get("rss_bytes_per_connection"));
        Assert.True(result.Get("server_rss_after_bytes") > 0);
    }

    [Fact]
    public async Task Offline_DrainsEveryQueuedMessageOnceDecrypted()
    {
        var result = await RunAsync("sqlite", (server, settings, ct) =>
            OfflineScenario.RunAsync(server, settings, new OfflineScenario.Options(Pairs: 2, Messages: 30, Window: 3), ct));

        AssertExactlyOnce(result, expected: 30);
        Assert.True(result.Get("drain_msgs_per_s") > 0);
    }

    [Fact]
    public async Task CachedUsers_AreReusedByTheNextRun()
    {
        await RunAsync("sqlite", (server, settings, ct) =>
            ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 1, PerPair: 5, Window: 1), ct));
        var cached = File.ReadAllLines(Path.Combine(data.FullName, "load-users", "users.txt"));

        var again = await RunAsync("sqlite", (server, settings, ct) =>
            ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(Pairs: 1, PerPair: 5, Window: 1), ct));

        Assert.Equal(2, cached.Length);
        Assert.Equal(cached, File.ReadAllLines(Path.Combine(data.FullName, "load-users", "users.txt")));
        AssertExactlyOnce(again, expected: 5);
    }

    public void Dispose() => data.Delete(recursive: true);

    private static void AssertExactlyOnce(ScenarioResult result, int expected)
    {
        Assert.Equal(expected, result.Get("messages"));
        Assert.Equal(expected, result.Get("delivered"));
        Assert.Equal(0, result.Get("duplicates"));
        Assert.Equal(0, result.Get("missing"));
        Assert.Equal(0, result.Get("decrypt_failures"));
    }

    private async Task<ScenarioResult> RunAsync(string storage, Func<ServerUnderTest, LoadSettings, CancellationToken, Task<ScenarioResult>> scenario, int nodes = 1)
    {
        var settings = new LoadSettings { Storage = storage, Nodes = nodes, DataDirectory = data.FullName, Quiet = true, MaxDuration = TimeSpan.FromSeconds(90) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var server = await ServerUnderTest.StartAsync(settings, timeout.Token);
        return await scenario(server, settings, timeout.Token);
    }
}
