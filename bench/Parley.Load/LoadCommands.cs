using System.CommandLine;
using Parley.Load.Host;
using Parley.Load.Reporting;
using Parley.Load.Scenarios;
using Parley.Load.Server;

namespace Parley.Load;

/// <summary>The scenario subcommands and their shared options.</summary>
internal static class LoadCommands
{
    private static readonly Option<string> Storage = new("--storage") { Description = "sqlite (default) or postgres (a private cluster is started).", DefaultValueFactory = _ => "sqlite" };
    private static readonly Option<int> Nodes = new("--nodes") { Description = "Start N nodes sharing the database, CA and a private redis-server (needs --storage postgres); user i connects to node i mod N, so each pair spans two nodes.", DefaultValueFactory = _ => 1 };
    private static readonly Option<string?> Data = new("--data") { Description = "Data directory of the started server; the load users are cached in it. Default $TMPDIR/parley-load/<storage>." };
    private static readonly Option<string?> Parley = new("--parley") { Description = "The parley executable to start (default: the Release build in this repository)." };
    private static readonly Option<string?> ServerUrl = new("--server") { Description = "Target an existing server instead of starting one (no RSS figures)." };
    private static readonly Option<string?> Fingerprint = new("--ca-fingerprint") { Description = "The CA fingerprint of --server." };
    private static readonly Option<int> MaxSeconds = new("--max-seconds") { Description = "Upper bound on the measured phase.", DefaultValueFactory = _ => 60 };
    private static readonly Option<bool> Json = new("--json") { Description = "Print only the JSON line (no table, no progress bar)." };
    private static readonly Option<string?> Out = new("--out") { Description = "Also append the JSON line to this file (input of `plot`)." };
    private static readonly Option<bool> Anchor = new("--anchor") { Description = "Also run ../shared/anchors/relay/mosquitto-anchor.sh and print ratios." };
    private static readonly Option<string?> Label = new("--label") { Description = "A tag written into the JSON line (e.g. before, after) and used as the plot series." };
    private static readonly Option<bool> UnarySends = new("--unary-sends") { Description = "One Send call per message instead of one SendStream call per user (as before SendStream existed)." };
    private static readonly Option<string?> AnchorDir = new("--anchor-dir") { Description = "Where mosquitto-anchor.sh is (default: found beside the repository)." };

    internal static IEnumerable<Command> Create()
    {
        var pairs = new Option<int>("--pairs") { Description = "Sender→receiver pairs.", DefaultValueFactory = _ => 10 };
        var count = new Option<int>("--count") { Description = "Messages per pair.", DefaultValueFactory = _ => 10_000 };
        var window = new Option<int>("--window") { Description = "Send calls in flight per pair.", DefaultValueFactory = _ => 32 };
        var warmup = new Option<int>("--warmup") { Description = "Messages per pair sent and delivered before the timed phase (a fresh server is still compiling its code).", DefaultValueFactory = _ => 0 };
        var throughput = Scenario("throughput", "P pairs send 256-byte messages as fast as flow control allows; delivered (decrypted) msgs/s.", pairs, count, window, warmup);
        throughput.SetAction((r, ct) => RunAsync(r, (server, settings, token) =>
            ThroughputScenario.RunAsync(server, settings, new ThroughputScenario.Options(r.GetValue(pairs), r.GetValue(count), r.GetValue(window), r.GetValue(warmup)), token), ct));

        var latencyPairs = new Option<int>("--pairs") { Description = "Pairs the offered rate is spread over.", DefaultValueFactory = _ => 10 };
        var rate = new Option<double?>("--rate") { Description = "Offered msgs/s (default: half of a quick throughput run)." };
        var seconds = new Option<double>("--seconds") { Description = "How long the rate is offered.", DefaultValueFactory = _ => 10 };
        var roundTrips = new Option<int>("--round-trips") { Description = "Ping-pong round trips (after 50 warm-up).", DefaultValueFactory = _ => 1000 };
        var latency = Scenario("latency", "A fixed offered rate; HDR histogram of send → decrypted, and the ping-pong round trip.", latencyPairs, rate, seconds, roundTrips);
        latency.SetAction((r, ct) => RunAsync(r, (server, settings, token) =>
            LatencyScenario.RunAsync(server, settings, new LatencyScenario.Options(r.GetValue(latencyPairs), r.GetValue(rate), TimeSpan.FromSeconds(r.GetValue(seconds)), r.GetValue(roundTrips)), token), ct));

        var connectionsCount = new Option<int>("--connections") { Description = "Idle authenticated connections.", DefaultValueFactory = _ => 10_000 };
        var connections = Scenario("connections", "C idle logged-in connections with Receive streams; server RSS per connection.", connectionsCount);
        connections.SetAction((r, ct) =>
        {
            // Each side of a connection is one descriptor in its own process (this one, the server child).
            FileLimit.RaiseTo(r.GetValue(connectionsCount) + 1024);
            return RunAsync(r, (server, settings, token) =>
                ConnectionsScenario.RunAsync(server, settings, new ConnectionsScenario.Options(r.GetValue(connectionsCount)), token), ct);
        });

        var offlinePairs = new Option<int>("--pairs") { Description = "Offline receivers (one sender each).", DefaultValueFactory = _ => 10 };
        var messages = new Option<int>("--messages") { Description = "Messages queued in all.", DefaultValueFactory = _ => 10_000 };
        var offline = Scenario("offline", "M messages queued for offline users, then they connect; drain msgs/s.", offlinePairs, messages);
        offline.SetAction((r, ct) => RunAsync(r, (server, settings, token) =>
            OfflineScenario.RunAsync(server, settings, new OfflineScenario.Options(r.GetValue(offlinePairs), r.GetValue(messages)), token), ct));

        return [throughput, latency, connections, offline, HostStallsCommand(), PlotCommand.Create()];
    }

    private static Command HostStallsCommand()
    {
        var phaseSeconds = new Option<double>("--seconds") { Description = "Length of each phase.", DefaultValueFactory = _ => 5 };
        var fileDirectory = new Option<string?>("--dir") { Description = "Where the fsync phase writes its file (default $TMPDIR): the disk the server's data is on." };
        var command = new Command("host-stalls", "Whether the machine stops running this process: every core spinning, then beside an fsync loop; stalls and their period.");
        foreach (var option in new Option[] { phaseSeconds, fileDirectory, Json, Out, Label })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var duration = TimeSpan.FromSeconds(parse.GetValue(phaseSeconds));
            var directory = parse.GetValue(fileDirectory) ?? Path.GetTempPath();
            var alone = HostStalls.Measure(duration, disk: false, directory);
            var withDisk = HostStalls.Measure(duration, disk: true, directory);
            var result = new ScenarioResult("host-stalls", "none")
                .Add("cores", alone.Threads, "cores, each spun by one thread")
                .Add("cpu_only_stall_ms_per_s", alone.StalledMillisecondsPerSecond, "spinning only: ms per s each core did not run")
                .Add("cpu_only_longest_stall_ms", alone.LongestMilliseconds, "spinning only: longest stall ms")
                .Add("with_disk_stall_ms_per_s", withDisk.StalledMillisecondsPerSecond, "with an fsync loop: ms per s each core did not run")
                .Add("with_disk_longest_stall_ms", withDisk.LongestMilliseconds, "with an fsync loop: longest stall ms")
                .Add("with_disk_fsyncs_per_s", withDisk.FsyncsPerSecond, "with an fsync loop: fsyncs per s");
            if (withDisk.PeriodMilliseconds is { } period)
            {
                result.Add("with_disk_stall_period_ms", period, "with an fsync loop: stalls recur every ms");
            }

            if (parse.GetValue(Label) is { } label)
            {
                result.Add("label", label, "label");
            }

            result.Print(new LoadSettings { Json = parse.GetValue(Json), Quiet = parse.GetValue(Json), ResultsFile = parse.GetValue(Out) });
            return 0;
        });
        return command;
    }

    private static Command Scenario(string name, string description, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options.Concat([Storage, Nodes, Data, Parley, ServerUrl, Fingerprint, MaxSeconds, Json, Out, Anchor, AnchorDir, Label, UnarySends]))
        {
            command.Options.Add(option);
        }

        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<ServerUnderTest, LoadSettings, CancellationToken, Task<ScenarioResult>> scenario, CancellationToken cancellationToken)
    {
        var storage = parse.GetValue(Storage)!.ToLowerInvariant();
        if (storage is not ("sqlite" or "postgres"))
        {
            await Console.Error.WriteLineAsync($"parley-load: error: --storage must be sqlite or postgres (got {storage})");
            return 2;
        }

        var nodes = parse.GetValue(Nodes);
        if (nodes < 1 || (nodes > 1 && storage != "postgres"))
        {
            await Console.Error.WriteLineAsync($"parley-load: error: --nodes must be 1, or more with --storage postgres (got {nodes} with {storage})");
            return 2;
        }

        var settings = new LoadSettings
        {
            Storage = storage,
            Nodes = nodes,
            DataDirectory = parse.GetValue(Data) ?? Path.Combine(Path.GetTempPath(), "parley-load", storage),
            ParleyExecutable = parse.GetValue(Parley),
            MaxDuration = TimeSpan.FromSeconds(parse.GetValue(MaxSeconds)),
            Json = parse.GetValue(Json),
            Quiet = parse.GetValue(Json),
            ResultsFile = parse.GetValue(Out),
            Anchor = parse.GetValue(Anchor),
            Label = parse.GetValue(Label),
            UnarySends = parse.GetValue(UnarySends),
        };
        try
        {
            var url = parse.GetValue(ServerUrl);
            await using var server = url is null
                ? await ServerUnderTest.StartAsync(settings, cancellationToken)
                : await ServerUnderTest.TargetAsync(new Uri(url), parse.GetValue(Fingerprint) ?? throw new InvalidOperationException("--server needs --ca-fingerprint"), cancellationToken);
            var result = await scenario(server, settings, cancellationToken);
            result.Add("server_build", server.Build, "server build");
            if (server.Nodes > 1)
            {
                result.Add("nodes", server.Nodes, "nodes (pairs span two)");
            }

            if (settings.Label is { } label)
            {
                result.Add("label", label, "label");
            }

            if (settings.Anchor)
            {
                await AddAnchorAsync(result, settings, parse.GetValue(AnchorDir), cancellationToken);
            }

            result.Print(settings);
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or Grpc.Core.RpcException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"parley-load: error: {e.Message}");
            return 1;
        }
    }

    private static async Task AddAnchorAsync(ScenarioResult result, LoadSettings settings, string? anchorDirectory, CancellationToken cancellationToken)
    {
        switch (result.Scenario)
        {
            case "throughput" or "offline":
                var mosquitto = await MosquittoAnchor.MeasureThroughputAsync(anchorDirectory, cancellationToken);
                if (mosquitto is { } m)
                {
                    var key = result.Scenario == "throughput" ? "delivered_msgs_per_s" : "drain_msgs_per_s";
                    result.Add("anchor_mosquitto_qos1_msgs_per_s", m, "Mosquitto QoS 1 persistent msgs/s (same run)")
                        .Add("ratio_vs_mosquitto", (result.Get(key) ?? 0) / m, "Parley / Mosquitto");
                }

                break;
            case "latency":
                if (await MosquittoAnchor.MeasureRoundTripAsync(anchorDirectory, cancellationToken) is var (p50, p99))
                {
                    result.Add("anchor_mosquitto_nodelay_rtt_ms_p50", p50, "Mosquitto TCP_NODELAY RTT p50 ms (same run)")
                        .Add("anchor_mosquitto_nodelay_rtt_ms_p99", p99, "Mosquitto TCP_NODELAY RTT p99 ms (same run)")
                        .Add("ratio_rtt_p50_vs_mosquitto", (result.Get("rtt_ms_p50") ?? 0) / p50, "Parley RTT p50 / Mosquitto")
                        .Add("ratio_latency_p99_vs_mosquitto_rtt_p99", (result.Get("latency_ms_p99") ?? 0) / p99, "Parley p99 / Mosquitto RTT p99");
                }

                // The same schedule through Mosquitto: what this machine allows at that rate.
                var paced = await MosquittoAnchor.MeasurePacedLatencyAsync(
                    anchorDirectory,
                    (int)(result.Get("pairs") ?? 10),
                    result.Get("offered_msgs_per_s") ?? 0,
                    (int)(result.Get("messages") ?? 0),
                    settings.MaxDuration,
                    cancellationToken);
                if (paced is { } anchor)
                {
                    result.Add("anchor_mosquitto_paced_latency_ms_p50", anchor.P50, "Mosquitto at the same rate: latency p50 ms")
                        .Add("anchor_mosquitto_paced_latency_ms_p90", anchor.P90, "Mosquitto at the same rate: latency p90 ms")
                        .Add("anchor_mosquitto_paced_latency_ms_p99", anchor.P99, "Mosquitto at the same rate: latency p99 ms")
                        .Add("anchor_mosquitto_paced_latency_ms_p999", anchor.P999, "Mosquitto at the same rate: latency p99.9 ms")
                        .Add("anchor_mosquitto_paced_lagged", anchor.Lagged, "Mosquitto at the same rate: sends started late by > 1 ms")
                        .Add("anchor_mosquitto_paced_broker_cpu_us_per_msg", anchor.BrokerCpuMicroseconds, "Mosquitto at the same rate: broker CPU µs/msg")
                        .Add("anchor_mosquitto_paced_client_cpu_us_per_msg", anchor.ClientCpuMicroseconds, "Mosquitto at the same rate: MQTTnet clients' CPU µs/msg");
                    if (anchor.MachineBusyCores is { } busy)
                    {
                        result.Add("anchor_mosquitto_paced_machine_busy_cores", busy, "Mosquitto at the same rate: machine busy cores");
                    }

                    result.Add("ratio_latency_p99_vs_mosquitto_paced", (result.Get("latency_ms_p99") ?? 0) / anchor.P99, "Parley p99 / Mosquitto p99 at the same rate");
                }

                break;
        }
    }
}
