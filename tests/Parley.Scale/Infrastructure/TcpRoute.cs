using System.Net;
using System.Net.Sockets;

namespace Parley.Scale.Infrastructure;

/// <summary>
/// What a TCP load balancer does for one client: a loopback port that forwards each new connection
/// to the node it currently points at (TLS passes through untouched: the client still talks to
/// the node and checks its certificate against the pinned CA). Repointing it is how a client
/// "reconnects to another node" after its node died; open connections are not moved.
/// </summary>
internal sealed class TcpRoute : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stopping = new();
    private readonly List<TcpClient> open = [];
    private readonly Lock gate = new();
    private readonly Task accepting;
    private volatile int target;

    internal TcpRoute(int targetPort)
    {
        target = targetPort;
        listener.Start();
        accepting = AcceptAsync();
    }

    internal int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>What a profile registers with: the route, not a node.</summary>
    internal string Url => $"https://127.0.0.1:{Port}";

    internal void PointTo(int targetPort) => target = targetPort;

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        try
        {
            await accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        lock (gate)
        {
            foreach (var client in open)
            {
                client.Dispose();
            }
        }

        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            var inbound = await listener.AcceptTcpClientAsync(stopping.Token);
            _ = ForwardAsync(inbound, target);
        }
    }

    private async Task ForwardAsync(TcpClient inbound, int port)
    {
        var outbound = new TcpClient();
        lock (gate)
        {
            open.Add(inbound);
            open.Add(outbound);
        }

        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, port, stopping.Token);
            var a = inbound.GetStream();
            var b = outbound.GetStream();

            // When either side ends, both end: a node killed with -9 looks like a reset to the client.
            await Task.WhenAny(Pump(a, b), Pump(b, a));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The node is gone or the route stopped: the client sees its connection close.
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
            lock (gate)
            {
                open.Remove(inbound);
                open.Remove(outbound);
            }
        }
    }

    private async Task Pump(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, stopping.Token)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), stopping.Token);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // One side closed.
        }
    }
}
