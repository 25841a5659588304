using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using HdrHistogram;
using MQTTnet;
using MQTTnet.Protocol;
using Parley.Load.Scenarios;
using Parley.Load.Server;

namespace Parley.Load.Reporting;

/// <summary>
/// The latency scenario's schedule offered to Mosquitto instead of Parley, in the same run: the
/// same pairs, rate and count, the same pacer thread, 256-byte QoS 1 publishes from this process
/// (MQTTnet, TCP_NODELAY on both sides), publish call → received by the subscriber. What p99 a C
/// broker with no TLS, no end-to-end encryption and no fsync reaches here at that rate says how
/// much of Parley's p99 is this machine's rather than Parley's.
/// </summary>
internal static class MosquittoPacedLatency
{
    private const int PayloadBytes = 256;
    private const long HighestMicroseconds = 60_000_000;

    /// <summary>The percentiles in ms; CPU per message of the broker and of this process (both ends' clients) over the offered phase.</summary>
    internal readonly record struct Result(long Delivered, double P50, double P90, double P99, double P999, long Lagged, double BrokerCpuMicroseconds, double ClientCpuMicroseconds, double? MachineBusyCores);

    /// <summary>Offers <paramref name="total"/> publishes at <paramref name="rate"/> over <paramref name="pairs"/> publisher→subscriber pairs through <paramref name="broker"/>.</summary>
    internal static async Task<Result> MeasureAsync(PrivateMosquitto broker, int pairs, double rate, int total, TimeSpan limit, CancellationToken cancellationToken)
    {
        var port = broker.Port;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        var factory = new MqttClientFactory();
        var run = Guid.NewGuid().ToString("N")[..8];
        var histogram = new LongConcurrentHistogram(1, HighestMicroseconds, 3);
        var delivered = 0L;
        var clients = new List<IMqttClient>();
        try
        {
            var publishers = new (IMqttClient Client, string Topic)[pairs];
            for (var i = 0; i < pairs; i++)
            {
                var topic = $"parley-load/{run}/{i}";
                var subscriber = await ConnectAsync(factory, $"sub-{run}-{i}", port, clients, deadline.Token);
                subscriber.ApplicationMessageReceivedAsync += received =>
                {
                    var sent = ReadStamp(received.ApplicationMessage.Payload);
                    var age = Stopwatch.GetElapsedTime(sent);
                    histogram.RecordValue(Math.Clamp((long)age.TotalMicroseconds, 1, HighestMicroseconds));
                    Interlocked.Increment(ref delivered);
                    return Task.CompletedTask;
                };
                await subscriber.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), deadline.Token);
                publishers[i] = (await ConnectAsync(factory, $"pub-{run}-{i}", port, clients, deadline.Token), topic);
            }

            Task PublishAsync(int k)
            {
                var payload = new byte[PayloadBytes];
                BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
                var (client, topic) = publishers[k % pairs];
                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(topic)
                    .WithPayload(payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build();
                return client.PublishAsync(message, deadline.Token);
            }

            var machine = ProcStatus.MachineIdle();
            var brokerCpu = broker.CpuTime();
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var lagged = await Pacer.OfferAsync(rate, total, Pacer.DefaultMaxInFlight, PublishAsync, deadline.Token);
            while (Interlocked.Read(ref delivered) < total)
            {
                await Task.Delay(2, deadline.Token);
            }

            var busy = CostMeter.BusyCores(machine, ProcStatus.MachineIdle(), Environment.ProcessorCount);
            var brokerPerMessage = (broker.CpuTime() - brokerCpu).TotalMicroseconds / total;
            var clientPerMessage = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / total;
            static double Ms(HistogramBase h, double percentile) => h.GetValueAtPercentile(percentile) / 1000.0;
            return new Result(Interlocked.Read(ref delivered), Ms(histogram, 50), Ms(histogram, 90), Ms(histogram, 99), Ms(histogram, 99.9), lagged, brokerPerMessage, clientPerMessage, busy);
        }
        finally
        {
            foreach (var client in clients)
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(cancellationToken: CancellationToken.None);
                }

                client.Dispose();
            }
        }
    }

    private static async Task<IMqttClient> ConnectAsync(MqttClientFactory factory, string clientId, int port, List<IMqttClient> clients, CancellationToken cancellationToken)
    {
        var client = factory.CreateMqttClient();
        clients.Add(client);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithCleanSession()
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).NoDelay = true;
        await client.ConnectAsync(options, cancellationToken);
        return client;
    }

    private static long ReadStamp(ReadOnlySequence<byte> payload)
    {
        Span<byte> stamp = stackalloc byte[sizeof(long)];
        payload.Slice(0, sizeof(long)).CopyTo(stamp);
        return BinaryPrimitives.ReadInt64LittleEndian(stamp);
    }
}
