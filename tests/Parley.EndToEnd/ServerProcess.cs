using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Parley.EndToEnd;

/// <summary>A real `parley serve` process on a free loopback port with its own data directory.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly List<string> extraArgs;
    private Process? process;

    private ServerProcess(string dataDirectory, int port, List<string> extraArgs)
    {
        DataDirectory = dataDirectory;
        Port = port;
        this.extraArgs = extraArgs;
    }

    internal string DataDirectory { get; }

    internal int Port { get; }

    internal string Url => $"https://127.0.0.1:{Port}";

    internal string CaFingerprint { get; private set; } = string.Empty;

    internal static async Task<ServerProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        // A free port is free only when it is picked: test processes running beside this one
        // may take it before the server binds. Then another is picked; a restart keeps its port.
        for (var attempt = 1; ; attempt++)
        {
            var server = new ServerProcess(dataDirectory, FreePort(), [.. extraArgs]);
            try
            {
                await server.StartAsync();
                return server;
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                await server.DisposeAsync();
            }
        }
    }

    internal async Task StartAsync()
    {
        var args = new List<string> { "serve", "--data", DataDirectory, "--listen", Url };
        args.AddRange(extraArgs);
        process = ParleyExecutable.Start(new Dictionary<string, string>(), args, redirectInput: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var log = new System.Text.StringBuilder();
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"parley serve exited: {log}{await process.StandardError.ReadToEndAsync()}");
            log.AppendLine(line);
            var match = FingerprintPattern().Match(line);
            if (match.Success)
            {
                CaFingerprint = match.Value;
                break;
            }
        }

        // Keep draining its output so the process never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
    }

    /// <summary>kill -9: no graceful shutdown.</summary>
    internal async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("SHA256:[0-9A-F:]{95}")]
    private static partial Regex FingerprintPattern();
}
