using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Scale.Infrastructure;

/// <summary>
/// A private redis-server on a free loopback port with a temporary working directory and no
/// persistence; it can be stopped (kill -9) and started again on the same port.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string directory;
    private Process? process;

    private RedisServer(int port, string directory)
    {
        Port = port;
        this.directory = directory;
    }

    internal int Port { get; }

    /// <summary>What `parley serve --redis` takes.</summary>
    internal string Address => $"127.0.0.1:{Port}";

    /// <summary>Starts a redis-server on <paramref name="port"/>, or on a free port.</summary>
    internal static async Task<RedisServer> LaunchAsync(int? port = null)
    {
        if (FindExecutable() is null)
        {
            throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server; .ci/run does this)");
        }

        var server = new RedisServer(port ?? FreePort(), Directory.CreateTempSubdirectory("parley-redis-").FullName);
        await server.StartAsync();
        return server;
    }

    internal async Task StartAsync()
    {
        var info = new ProcessStartInfo(FindExecutable()!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes" })
        {
            info.ArgumentList.Add(arg);
        }

        process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await PingAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not come up on port {Port}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>kill -9: every client connection drops at once.</summary>
    internal async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans /tmp.
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"));
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A loopback port free now (this file is also linked into parley-load, without the end-to-end helpers).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/usr/sbin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);
}
