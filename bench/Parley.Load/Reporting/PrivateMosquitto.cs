using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.Load.Reporting;

/// <summary>
/// A Mosquitto 2 of this run's own: a free loopback port, QoS 1 persistence on in a temporary
/// directory, anonymous clients, and set_tcp_nodelay (the default 44 ms round trip is Nagle's
/// algorithm against delayed ACK, not Mosquitto's processing time). Stopped and removed on dispose.
/// </summary>
internal sealed class PrivateMosquitto : IAsyncDisposable
{
    private readonly Process broker;
    private readonly DirectoryInfo data;

    private PrivateMosquitto(Process broker, DirectoryInfo data, int port)
    {
        this.broker = broker;
        this.data = data;
        Port = port;
    }

    internal int Port { get; }

    /// <summary>Where the broker keeps its configuration and persistence file; removed on dispose.</summary>
    internal string DataDirectory => data.FullName;

    /// <summary>CPU time (user + system) the broker has used so far.</summary>
    internal TimeSpan CpuTime()
    {
        broker.Refresh();
        return broker.TotalProcessorTime;
    }

    /// <summary>Starts the broker and waits until it listens; null (with one line on stderr) when it cannot start.</summary>
    internal static async Task<PrivateMosquitto?> StartAsync(CancellationToken cancellationToken)
    {
        var data = Directory.CreateTempSubdirectory("parley-mosquitto-");

        // mosquitto drops root privileges to its own user, which must be able to write here (0777).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(data.FullName, (UnixFileMode)0b111_111_111);
        }

        var port = Parley.Scale.Infrastructure.RedisServer.FreePort();
        var config = Path.Combine(data.FullName, "mosquitto.conf");
        await File.WriteAllTextAsync(
            config,
            $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {data.FullName}/\nmax_queued_messages 200000\nset_tcp_nodelay true\n",
            cancellationToken);
        Process broker;
        try
        {
            broker = Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })
                ?? throw new InvalidOperationException("cannot start mosquitto");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            data.Delete(recursive: true);
            await Console.Error.WriteLineAsync($"parley-load: cannot start mosquitto: {e.Message}");
            return null;
        }

        var started = new PrivateMosquitto(broker, data, port);
        if (!await started.WaitForPortAsync(cancellationToken))
        {
            await started.DisposeAsync();
            await Console.Error.WriteLineAsync($"parley-load: mosquitto did not listen on port {port}");
            return null;
        }

        return started;
    }

    public async ValueTask DisposeAsync()
    {
        if (!broker.HasExited)
        {
            broker.Kill(entireProcessTree: true);
            await broker.WaitForExitAsync(CancellationToken.None);
        }

        broker.Dispose();
        data.Delete(recursive: true);
    }

    private async Task<bool> WaitForPortAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50 && !broker.HasExited; attempt++)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }

        return false;
    }
}
