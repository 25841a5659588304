using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Parley.Client.Connection;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Load.Server;

/// <summary>
/// The server the scenarios run against: a real `parley serve` child process on a free loopback
/// port (its RSS is read from /proc), or an existing server named by --server.
/// </summary>
internal sealed partial class ServerUnderTest : IAsyncDisposable
{
    private readonly Process? process;
    private readonly PostgresCluster? postgres;

    private ServerUnderTest(Uri url, string caPem, string cacheDirectory, string storage, Process? process, PostgresCluster? postgres)
    {
        Url = url;
        Ca = new PinnedCertificateAuthority(caPem);
        CacheDirectory = cacheDirectory;
        Storage = storage;
        this.process = process;
        this.postgres = postgres;
    }

    internal Uri Url { get; }

    internal PinnedCertificateAuthority Ca { get; }

    /// <summary>Where the registered load users are cached (keyed by the server's data directory).</summary>
    internal string CacheDirectory { get; }

    internal string Storage { get; }

    /// <summary>The server process id when this tool started it; RSS is only known then.</summary>
    internal int? ProcessId => process?.Id;

    internal ServerConnection Connect() => ServerConnection.Open(Url, Ca);

    /// <summary>
    /// Starts `parley serve` with the storage and data directory of <paramref name="settings"/>.
    /// For postgres a private cluster is started first (the one the server tests use) and the data
    /// directory is made fresh, because the database is.
    /// </summary>
    internal static async Task<ServerUnderTest> StartAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        var dataDirectory = settings.DataDirectory;
        PostgresCluster? cluster = null;
        var environment = new Dictionary<string, string>
        {
            // The load users send far above the per-user default of 200/s; the mailbox bound
            // stays, raised so that a slow receiver is not what a throughput run measures.
            ["PARLEY_SENDS_PER_SECOND"] = "1000000",
            ["PARLEY_MAX_QUEUED"] = "1000000",
            ["DOTNET_NOLOGO"] = "1",
        };
        if (settings.Storage == "postgres")
        {
            cluster = await PostgresCluster.StartPrivateAsync();
            environment["PARLEY_POSTGRES"] = await cluster.CreateDatabaseAsync();
            dataDirectory = Directory.CreateTempSubdirectory("parley-load-pg-").FullName;
        }

        Directory.CreateDirectory(dataDirectory);
        var port = FreePort();
        var url = new Uri($"https://127.0.0.1:{port}");
        var info = new ProcessStartInfo(settings.ParleyExecutable ?? LocateParley())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["serve", "--data", dataDirectory, "--listen", url.ToString().TrimEnd('/'), "--storage", settings.Storage])
        {
            info.ArgumentList.Add(arg);
        }

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
            var caPem = await File.ReadAllTextAsync(Path.Combine(dataDirectory, "ca.pem"), cancellationToken);
            return new ServerUnderTest(url, caPem, Path.Combine(dataDirectory, "load-users"), settings.Storage, process, cluster);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
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
        return new ServerUnderTest(url, pem, cache, "external", process: null, postgres: null);
    }

    /// <summary>The server's resident set size in bytes (VmRSS of /proc/PID/status), or null when it is not our child.</summary>
    internal long? ResidentBytes()
    {
        if (process is null || process.HasExited)
        {
            return null;
        }

        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kilobytes * 1024;
            }
        }

        return null;
    }

    /// <summary>CPU time (user + system) the server process has used, or null when it is not our child.</summary>
    internal TimeSpan? CpuTime()
    {
        if (process is null || process.HasExited)
        {
            return null;
        }

        try
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        if (postgres is not null)
        {
            await postgres.DisposeAsync();
        }

        Ca.Dispose();
    }

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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("SHA256:[0-9A-F:]{95}")]
    private static partial Regex FingerprintPattern();
}
