using System.Diagnostics;
using Parley.Load.Reporting;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// P sender→receiver pairs each send N messages of 256 bytes as fast as the window of
/// outstanding Send calls lets them (a send is acknowledged only once committed); the rate is
/// counted at the receivers, after decryption. An optional warm-up first sends and delivers
/// <see cref="Options.Warmup"/> messages per pair, untimed and uncounted, so that the timed phase
/// measures a server whose code has finished tiered compilation rather than one still starting.
/// </summary>
internal static class ThroughputScenario
{
    internal sealed record Options(int Pairs = 10, int PerPair = 10_000, int Window = 32, int Warmup = 0);

    internal static async Task<ScenarioResult> RunAsync(ServerUnderTest server, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var users = await Population.PrepareAsync(server, options.Pairs * 2, connect: true, parallelism: 16, progress: null, cancellationToken);
        try
        {
            await using var pairs = await PairedUsers.OpenAsync(server, settings, users, options.PerPair, cancellationToken);
            if (options.Warmup > 0)
            {
                // Sequences past PerPair: delivered and counted once each, but not in the timed phase.
                await SendAllAsync(pairs, settings, options, firstSequence: options.PerPair, perPair: options.Warmup, "warm-up", cancellationToken);
            }

            var measured = await MeasureAsync(server, pairs, settings, options, cancellationToken);
            var result = new ScenarioResult("throughput", server.Storage)
                .Add("pairs", options.Pairs, "pairs")
                .Add("warmup", (long)options.Pairs * options.Warmup, "messages delivered before the timed phase")
                .Add("messages", (long)options.Pairs * options.PerPair, "messages sent")
                .Add("window", options.Window, "sends in flight per pair")
                .Add("delivered", measured.Delivered, "delivered and decrypted")
                .Add("duplicates", pairs.Duplicates, "duplicates")
                .Add("missing", pairs.Missing(options.PerPair), "missing")
                .Add("stale", pairs.Stale, "leftovers of an earlier run, acked unread")
                .Add("decrypt_failures", pairs.DecryptFailures, "decrypt failures")
                .Add("elapsed_s", measured.Elapsed.TotalSeconds, "seconds")
                .Add("timed_out", measured.TimedOut, "cut short by --max-seconds")
                .Add("delivered_msgs_per_s", measured.Rate, "delivered msgs/s");
            measured.Costs.AddTo(result);
            return result;
        }
        finally
        {
            foreach (var user in users)
            {
                await user.DisposeAsync();
            }
        }
    }

    internal readonly record struct Measurement(long Delivered, TimeSpan Elapsed, double Rate, bool TimedOut, CostMeter.Costs Costs);

    /// <summary>Runs the timed phase on pairs already open (also the latency scenario's calibration).</summary>
    internal static async Task<Measurement> MeasureAsync(ServerUnderTest server, PairedUsers pairs, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var baseline = pairs.Delivered;
        var meter = await CostMeter.StartAsync(server, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var timedOut = !await SendAllAsync(pairs, settings, options, firstSequence: 0, options.PerPair, "throughput", cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started, Math.Max(started + 1, pairs.LastDeliveredTimestamp));
        var delivered = pairs.Delivered - baseline;
        return new Measurement(delivered, elapsed, delivered / elapsed.TotalSeconds, timedOut, await meter.PerMessageAsync(delivered, cancellationToken));
    }

    /// <summary>
    /// Each pair sends sequences [firstSequence, firstSequence + perPair) through its window of
    /// senders, then waits until all are delivered. False when cut short by --max-seconds.
    /// </summary>
    private static async Task<bool> SendAllAsync(PairedUsers pairs, LoadSettings settings, Options options, int firstSequence, int perPair, string title, CancellationToken cancellationToken)
    {
        var total = (long)options.Pairs * perPair;
        var baseline = pairs.Delivered;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.MaxDuration);
        try
        {
            await ProgressDisplay.RunAsync(settings, $"{title}: {options.Pairs} pairs", total, () => pairs.Delivered - baseline, async () =>
            {
                var next = new int[options.Pairs];
                var senders = new List<Task>();
                for (var pair = 0; pair < options.Pairs; pair++)
                {
                    for (var lane = 0; lane < options.Window; lane++)
                    {
                        var p = pair;
                        senders.Add(Task.Run(
                            async () =>
                            {
                                int offset;
                                while ((offset = Interlocked.Increment(ref next[p]) - 1) < perPair)
                                {
                                    await pairs.SendDataAsync(p, firstSequence + offset, deadline.Token);
                                }
                            },
                            deadline.Token));
                    }
                }

                await Task.WhenAll(senders);
                while (pairs.Delivered - baseline < total)
                {
                    await Task.Delay(5, deadline.Token);
                }

                return 0;
            });
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled }
            && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Bounded in time: what was delivered so far is the figure, flagged as cut short.
            return false;
        }
    }
}
