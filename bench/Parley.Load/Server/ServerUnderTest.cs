using System.Diagnostics;
using System.Text.RegularExpressions;
using Parley.Client.Connection;
using Parley.Scale.Infrastructure;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Load.Server;

/// <summary>
/// The server the scenarios run against: real `parley serve` child processes on free loopback
/// ports (their RSS and CPU are read from /proc), or an existing server named by --server. With
/// --nodes N (postgres) N children share the data directory (CA), the database and a private
/// redis-server, and load user number i connects to node i mod N, so that the two users of a
/// pair (2i, 2i+1) are on different nodes and every message crosses nodes.
/// </summary>
internal sealed partial class ServerUnderTest : IAsyncDisposable
{
    /// <summary>The server's own count of what its managed heap has allocated (the System.Runtime meter), on /metrics.</summary>
    private const string AllocatedMetric = "system_runtime_dotnet_gc_heap_total_allocated";

    private readonly IReadOnlyList<Process> processes;
    private readonly IReadOnlyList<Uri> urls;
    private readonly Lazy<HttpClient> metrics;
    private readonly PostgresCluster? postgres;
    private readonly RedisServer? redis;

    /// <summary>A data directory this tool made for the run (postgres), deleted with it.</summary>
    private readonly string? temporaryDirectory;

    private ServerUnderTest(IReadOnlyList<Uri> urls, string caPem, string cacheDirectory, string storage, string build, IReadOnlyList<Process> processes, PostgresCluster? postgres, RedisServer? redis, string? temporaryDirectory = null)
    {
        this.temporaryDirectory = temporaryDirectory;
        Build = build;
        this.urls = urls;
        Ca = new PinnedCertificateAuthority(caPem);
        CacheDirectory = cacheDirectory;
        Storage = storage;
        this.processes = processes;
        this.postgres = postgres;
        this.redis = redis;
        metrics = new Lazy<HttpClient>(() => new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => Ca.Validate(certificate, errors),
        })
        { Timeout = TimeSpan.FromSeconds(10) });
    }

    /// <summary>The first node's address.</summary>
    internal Uri Url => urls[0];

    /// <summary>How many nodes serve (1 for an external server).</summary>
    internal int Nodes => urls.Count;

    internal PinnedCertificateAuthority Ca { get; }

    /// <summary>Where the registered load users are cached (keyed by the server's data directory).</summary>
    internal string CacheDirectory { get; }

    internal string Storage { get; }

    /// <summary>
    /// "native-aot" (the published executable users run), "jit" (the `dotnet build` output) or
    /// "external": a JIT server spends its first minute recompiling, so the two differ.
    /// </summary>
    internal string Build { get; }

    /// <summary>The first server process id when this tool started it; RSS is only known then.</summary>
    internal int? ProcessId => processes.Count > 0 ? processes[0].Id : null;

    internal ServerConnection Connect() => Connect(0);

    /// <summary>A connection to the node of load user number <paramref name="slot"/> (slot mod nodes).</summary>
    internal ServerConnection Connect(int slot) => ServerConnection.Open(urls[slot % urls.Count], Ca);

    /// <summary>
    /// Starts `parley serve` with the storage and data directory of <paramref name="settings"/>.
    /// For postgres a private cluster is started first (the one the server tests use) and the data
    /// directory is made fresh, because the database is; with several nodes a private redis-server
    /// links them.
    /// </summary>
    internal static async Task<ServerUnderTest> StartAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Nodes > 1 && settings.Storage != "postgres")
        {
            throw new InvalidOperationException("--nodes above 1 needs --storage postgres (the nodes share one database)");
        }

        var dataDirectory = settings.DataDirectory;
        var executable = settings.ParleyExecutable ?? LocateParley();
        PostgresCluster? cluster = null;
        RedisServer? redis = null;
        string? temporary = null;
        var started = new List<Process>();
        var environment = new Dictionary<string, string>
        {
            // The load users send far above the per-user default of 200/s; the mailbox bound
            // stays, raised so that a slow receiver is not what a throughput run measures.
            ["PARLEY_SENDS_PER_SECOND"] = "1000000",
            ["PARLEY_MAX_QUEUED"] = "1000000",
            ["DOTNET_NOLOGO"] = "1",
        };
        try
        {
            if (settings.Storage == "postgres")
            {
                cluster = await PostgresCluster.StartPrivateAsync();
                environment["PARLEY_POSTGRES"] = await cluster.CreateDatabaseAsync();
                dataDirectory = temporary = Directory.CreateTempSubdirectory("parley-load-pg-").FullName;
            }

            List<string> clusterArgs = [];
            if (settings.Nodes > 1)
            {
                redis = await RedisServer.LaunchAsync();
                clusterArgs.AddRange(["--redis", redis.Address]);
            }

            Directory.CreateDirectory(dataDirectory);
            var urls = new List<Uri>();
            string? caPem = null;
            for (var node = 0; node < settings.Nodes; node++)
            {
                var url = new Uri($"https://127.0.0.1:{RedisServer.FreePort()}");
                List<string> nodeArgs = settings.Nodes > 1 ? [.. clusterArgs, "--node-id", $"load-{node}"] : [];
                started.Add(await StartNodeAsync(executable, settings.Storage, dataDirectory, url, environment, nodeArgs, cancellationToken));
                urls.Add(url);

                // The first node made the CA; the others load it from the shared data directory.
                caPem ??= await File.ReadAllTextAsync(Path.Combine(dataDirectory, "ca.pem"), cancellationToken);
            }

            return new ServerUnderTest(urls, caPem!, Path.Combine(dataDirectory, "load-users"), settings.Storage, BuildOf(executable), started, cluster, redis, temporary);
        }
        catch
        {
            foreach (var process in started)
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

            if (temporary is not null)
            {
                Directory.Delete(temporary, recursive: true);
            }

            throw;
        }
    }

    /// <summary>An existing server: its CA is fetched from /ca.pem and must match the fingerprint.</summary>
    internal static async Task<ServerUnderTest> TargetAsync(Uri url, string fingerprint, CancellationToken cancellationToken)
    {
        using var handler = new HttpClientHandler
        {
            // The CA is what is being fetched; the fingerprint comparison below is what trusts it.
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var pem = await http.GetStringAsync(new Uri(url, "/ca.pem"), cancellationToken);
        using var ca = new PinnedCertificateAuthority(pem);
        if (!ca.Matches(fingerprint))
        {
            throw new InvalidOperationException($"the CA of {url} has fingerprint {ca.Fingerprint}, not {fingerprint}");
        }

        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url + "|" + ca.Fingerprint)))[..16];
        var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "parley-load", key.ToLowerInvariant());
        return new ServerUnderTest([url], pem, cache, "external", "external", [], postgres: null, redis: null);
    }

    /// <summary>The servers' resident set size in bytes, summed over nodes (VmRSS of /proc/PID/status), or null when they are not our children.</summary>
    internal long? ResidentBytes() => SumOverNodes(process => ProcStatus.ResidentBytes(process.Id));

    /// <summary>CPU time (user + system) the server processes have used, summed over nodes, or null when they are not our children.</summary>
    internal TimeSpan? CpuTime() => SumOverNodes(process =>
    {
        try
        {
            process.Refresh();
            return process.TotalProcessorTime.Ticks;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }) is { } ticks ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>Context switches of the server processes so far, summed over nodes, or null when they are not our children.</summary>
    internal long? ContextSwitchCount() => SumOverNodes(process => ProcStatus.ContextSwitches(process.Id));

    /// <summary>
    /// Bytes the servers have allocated on their managed heaps so far, summed over nodes, read from
    /// their /metrics (so an external server reports it too); null when a node does not give it.
    /// </summary>
    internal async Task<long?> AllocatedBytesAsync(CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var url in urls)
        {
            string text;
            try
            {
                text = await metrics.Value.GetStringAsync(new Uri(url, "/metrics"), cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Unreachable or too slow to answer: the run goes on without this figure.
                return null;
            }

            if (ParseMetric(text, AllocatedMetric) is not { } bytes)
            {
                return null;
            }

            total += (long)bytes;
        }

        return total;
    }

    /// <summary>The value of an unlabelled sample <paramref name="name"/> in a Prometheus text exposition, or null.</summary>
    internal static double? ParseMetric(string exposition, string name)
    {
        foreach (var line in exposition.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] == ' '
                && double.TryParse(line[(name.Length + 1)..].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary><paramref name="of"/> summed over the server processes; null when there are none (an external server), one has exited, or one is unknown.</summary>
    private long? SumOverNodes(Func<Process, long?> of)
    {
        long? total = null;
        foreach (var process in processes)
        {
            if (process.HasExited || of(process) is not { } value)
            {
                return null;
            }

            total = (total ?? 0) + value;
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        if (redis is not null)
        {
            await redis.DisposeAsync();
        }

        if (postgres is not null)
        {
            await postgres.DisposeAsync();
        }

        if (temporaryDirectory is not null && Directory.Exists(temporaryDirectory))
        {
            Directory.Delete(temporaryDirectory, recursive: true);
        }

        if (metrics.IsValueCreated)
        {
            metrics.Value.Dispose();
        }

        Ca.Dispose();
    }

    /// <summary>The JIT build is an apphost beside its parley.dll; the Native AOT build is one file.</summary>
    private static string BuildOf(string executable) =>
        File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(executable)) ?? ".", "parley.dll")) ? "jit" : "native-aot";

    /// <summary>src/Parley.Cli/bin/Release/net10.0/parley, found from this tool's own output directory.</summary>
    internal static string LocateParley()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = here.Parent?.Name ?? "Release";
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parley.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("cannot find the repository root (Parley.sln); pass --parley PATH");
        }

        var executable = Path.Combine(root.FullName, "src", "Parley.Cli", "bin", configuration, "net10.0", "parley");
        return File.Exists(executable)
            ? executable
            : throw new InvalidOperationException($"the parley executable is not built: {executable} (dotnet build Parley.sln -c {configuration})");
    }

    /// <summary>One `parley serve` child; returns once it printed the CA fingerprint (it accepts connections).</summary>
    private static async Task<Process> StartNodeAsync(string executable, string storage, string dataDirectory, Uri url, Dictionary<string, string> environment, List<string> extraArgs, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["serve", "--data", dataDirectory, "--listen", url.ToString().TrimEnd('/'), "--storage", storage, .. extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        // The load tool's own runtime setting (Properties/launchSettings.json); the server runs as its users run it.
        info.Environment.Remove("DOTNET_ReadyToRun");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start parley serve");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var log = new System.Text.StringBuilder();
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"parley serve exited: {log}{await process.StandardError.ReadToEndAsync(cancellationToken)}");
                log.AppendLine(line);
                if (FingerprintPattern().IsMatch(line))
                {
                    break;
                }
            }

            // Keep draining its output so the server never blocks on a full pipe.
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
            return process;
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    [GeneratedRegex("SHA256:[0-9A-F:]{95}")]
    private static partial Regex FingerprintPattern();
}
