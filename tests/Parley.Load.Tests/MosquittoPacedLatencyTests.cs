using Parley.Load.Reporting;

namespace Parley.Load.Tests;

/// <summary>
/// The latency anchor against a real private Mosquitto (the binary the CI installs): every publish
/// of the schedule is received once and timed. No assertion on speed.
/// </summary>
public sealed class MosquittoPacedLatencyTests
{
    [Fact]
    public async Task TheScheduleThroughMosquitto_IsReceivedAndTimedInFull()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var broker = await PrivateMosquitto.StartAsync(timeout.Token);
        Assert.NotNull(broker);

        // 1,000 publishes: the broker's CPU time is counted in 10 ms ticks, and 90 of them once
        // cost it less than one tick (a CI run read 0).
        var result = await MosquittoPacedLatency.MeasureAsync(broker, pairs: 3, rate: 1_000, total: 1_000, TimeSpan.FromSeconds(60), timeout.Token);

        Assert.Equal(1_000, result.Delivered);
        Assert.True(result.P50 > 0);
        Assert.True(result.P99 >= result.P50);
        Assert.True(result.P999 >= result.P99);
        // Both ends did work for every message: zero means the processes were misread.
        Assert.True(result.BrokerCpuMicroseconds > 0);
        Assert.True(result.ClientCpuMicroseconds > 0);
    }

    [Fact]
    public async Task TheBroker_IsStoppedAndItsDataRemovedOnDispose()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var broker = await PrivateMosquitto.StartAsync(timeout.Token);
        Assert.NotNull(broker);
        var port = broker.Port;
        var directory = broker.DataDirectory;
        Assert.True(File.Exists(Path.Combine(directory, "mosquitto.conf")));

        await broker.DisposeAsync();

        Assert.False(Directory.Exists(directory), $"{directory} was left behind");

        using var client = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => client.ConnectAsync(System.Net.IPAddress.Loopback, port, timeout.Token).AsTask());
    }
}
