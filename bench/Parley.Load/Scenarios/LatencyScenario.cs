using System.Diagnostics;
using HdrHistogram;
using Parley.Load.Reporting;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// A fixed offered rate (open loop: message k is sent at start + k/rate whatever happened to the
/// ones before, to within tens of microseconds: <see cref="Pacer"/>) spread over P pairs; the HDR
/// histogram records send call → decrypted at the receiver. Then a ping-pong on one pair:
/// encrypt, relay, decrypt, reply, relay, decrypt.
/// </summary>
internal static class LatencyScenario
{
    internal sealed record Options(int Pairs = 10, double? Rate = null, TimeSpan? Duration = null, int RoundTrips = 1000, int MaxInFlight = Pacer.DefaultMaxInFlight);

    private const long HighestMicroseconds = 60_000_000;

    internal static async Task<ScenarioResult> RunAsync(ServerUnderTest server, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var duration = options.Duration ?? TimeSpan.FromSeconds(10);
        var users = await Population.PrepareAsync(server, options.Pairs * 2, connect: true, parallelism: 16, progress: null, cancellationToken);
        try
        {
            var rate = options.Rate;
            double? calibrated = null;
            if (rate is null)
            {
                // Half of a quick throughput run on the same kind of pairs.
                // Bounded at 10 s: a cut-short run still gives its rate.
                await using var quick = await PairedUsers.OpenAsync(server, settings, users, 1_000, cancellationToken);
                var measured = await ThroughputScenario.MeasureAsync(server, quick, settings with { MaxDuration = TimeSpan.FromSeconds(10) }, new ThroughputScenario.Options(options.Pairs, 1_000), cancellationToken);
                calibrated = measured.Rate;
                rate = measured.Rate / 2;
            }

            var total = (int)Math.Max(1, rate.Value * duration.TotalSeconds);
            var perPair = (total / options.Pairs) + 1;
            await using var pairs = await PairedUsers.OpenAsync(server, settings, users, perPair, cancellationToken);
            var histogram = new LongConcurrentHistogram(1, HighestMicroseconds, 3);
            pairs.OnData = payload => histogram.RecordValue(Math.Clamp((long)payload.Age.TotalMicroseconds, 1, HighestMicroseconds));
            var meter = await CostMeter.StartAsync(server, cancellationToken);
            var lagged = await OfferAsync(pairs, settings, rate.Value, total, options.MaxInFlight, cancellationToken);
            var costs = await meter.PerMessageAsync(total, cancellationToken);

            var roundTrips = new LongHistogram(HighestMicroseconds, 3);
            for (var i = 0; i < 50 + options.RoundTrips; i++)
            {
                var rtt = await pairs.PingAsync(0, i, cancellationToken);
                if (i >= 50)
                {
                    roundTrips.RecordValue(Math.Clamp((long)rtt.TotalMicroseconds, 1, HighestMicroseconds));
                }
            }

            static double Ms(HistogramBase h, double percentile) => h.GetValueAtPercentile(percentile) / 1000.0;
            var result = new ScenarioResult("latency", server.Storage)
                .Add("pairs", options.Pairs, "pairs")
                .Add("offered_msgs_per_s", rate.Value, "offered msgs/s");
            if (calibrated is { } c)
            {
                result.Add("calibration_msgs_per_s", c, "calibration throughput msgs/s");
            }

            result
                .Add("messages", total, "messages")
                .Add("delivered", pairs.Delivered, "delivered and decrypted")
                .Add("duplicates", pairs.Duplicates, "duplicates")
                .Add("missing", MissingOf(pairs, total), "missing")
                .Add("decrypt_failures", pairs.DecryptFailures, "decrypt failures")
                .Add("pacer_lagged", lagged, "sends started late by > 1 ms")
                .Add("latency_ms_p50", Ms(histogram, 50), "latency p50 ms")
                .Add("latency_ms_p90", Ms(histogram, 90), "latency p90 ms")
                .Add("latency_ms_p99", Ms(histogram, 99), "latency p99 ms")
                .Add("latency_ms_p999", Ms(histogram, 99.9), "latency p99.9 ms")
                .Add("latency_ms_max", histogram.GetMaxValue() / 1000.0, "latency max ms")
                .Add("round_trips", options.RoundTrips, "ping-pong round trips")
                .Add("rtt_ms_p50", Ms(roundTrips, 50), "round trip p50 ms")
                .Add("rtt_ms_p99", Ms(roundTrips, 99), "round trip p99 ms");

            // At the offered rate, unlike the throughput run, little is batched: these say what
            // a message costs when it travels alone.
            return costs.AddTo(result);
        }
        finally
        {
            foreach (var user in users)
            {
                await user.DisposeAsync();
            }
        }
    }

    private static int MissingOf(PairedUsers pairs, int total) =>
        Enumerable.Range(0, pairs.Count).Sum(pair => pairs.MissingOfPair(pair, (total / pairs.Count) + (pair < total % pairs.Count ? 1 : 0)));

    /// <summary>Issues <paramref name="total"/> sends at <paramref name="rate"/>, round-robin over the pairs; waits for their delivery.</summary>
    private static async Task<long> OfferAsync(PairedUsers pairs, LoadSettings settings, double rate, int total, int maxInFlight, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.MaxDuration);
        var lagged = 0L;
        var baseline = pairs.Delivered;
        await ProgressDisplay.RunAsync(settings, $"latency: {rate:N0} msgs/s", total, () => pairs.Delivered - baseline, async () =>
        {
            // Each send is encrypted and queued on its sender's stream on the pacer's thread, so
            // that the schedule is what reaches the server.
            lagged = await Pacer.OfferAsync(rate, total, maxInFlight, k => pairs.SendDataAsync(k % pairs.Count, k / pairs.Count, deadline.Token), deadline.Token);
            while (pairs.Delivered - baseline < total)
            {
                await Task.Delay(2, deadline.Token);
            }

            return 0;
        });
        return lagged;
    }
}
