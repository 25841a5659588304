using System.Diagnostics;
using Parley.Load.Reporting;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// P sender→receiver pairs each send N messages of 256 bytes as fast as the window of
/// outstanding Send calls lets them (a send is acknowledged only once committed); the rate is
/// counted at the receivers, after decryption.
/// </summary>
internal static class ThroughputScenario
{
    internal sealed record Options(int Pairs = 10, int PerPair = 10_000, int Window = 32);

    internal static async Task<ScenarioResult> RunAsync(ServerUnderTest server, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var users = await Population.PrepareAsync(server, options.Pairs * 2, connect: true, parallelism: 16, progress: null, cancellationToken);
        try
        {
            await using var pairs = await PairedUsers.OpenAsync(server, settings, users, options.PerPair, cancellationToken);
            var measured = await MeasureAsync(server, pairs, settings, options, cancellationToken);
            var result = new ScenarioResult("throughput", server.Storage)
                .Add("pairs", options.Pairs, "pairs")
                .Add("messages", (long)options.Pairs * options.PerPair, "messages sent")
                .Add("window", options.Window, "sends in flight per pair")
                .Add("delivered", pairs.Delivered, "delivered and decrypted")
                .Add("duplicates", pairs.Duplicates, "duplicates")
                .Add("missing", pairs.Missing(options.PerPair), "missing")
                .Add("stale", pairs.Stale, "leftovers of an earlier run, acked unread")
                .Add("decrypt_failures", pairs.DecryptFailures, "decrypt failures")
                .Add("elapsed_s", measured.Elapsed.TotalSeconds, "seconds")
                .Add("timed_out", measured.TimedOut, "cut short by --max-seconds")
                .Add("client_cpu_us_per_msg", measured.ClientCpuMicrosecondsPerMessage, "load tool CPU µs per message (encrypt, send, decrypt, ack)")
                .Add("delivered_msgs_per_s", measured.Rate, "delivered msgs/s");
            if (measured.ServerCpuMicrosecondsPerMessage is { } serverUs)
            {
                // CPU per message holds still when other work shares the cores; the rate does not.
                result.Add("server_cpu_us_per_msg", serverUs, "server CPU µs per message");
            }

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

    internal readonly record struct Measurement(TimeSpan Elapsed, double Rate, bool TimedOut, double? ServerCpuMicrosecondsPerMessage, double ClientCpuMicrosecondsPerMessage);

    /// <summary>Runs the timed phase on pairs already open (also the latency scenario's calibration).</summary>
    internal static async Task<Measurement> MeasureAsync(ServerUnderTest server, PairedUsers pairs, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var total = (long)options.Pairs * options.PerPair;
        var baseline = pairs.Delivered;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.MaxDuration);
        var serverCpu = server.CpuTime();
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var timedOut = false;
        try
        {
            await ProgressDisplay.RunAsync(settings, $"throughput: {options.Pairs} pairs", total, () => pairs.Delivered - baseline, async () =>
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
                            int sequence;
                            while ((sequence = Interlocked.Increment(ref next[p]) - 1) < options.PerPair)
                            {
                                await pairs.SendDataAsync(p, sequence, deadline.Token);
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
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled }
            && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Bounded in time: what was delivered so far is the figure, flagged as cut short.
            timedOut = true;
        }

        var elapsed = Stopwatch.GetElapsedTime(started, Math.Max(started + 1, pairs.LastDeliveredTimestamp));
        var delivered = Math.Max(1, pairs.Delivered - baseline);
        var serverUs = server.CpuTime() - serverCpu is { } s ? s.TotalMicroseconds / delivered : (double?)null;
        var clientUs = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / delivered;
        return new Measurement(elapsed, (pairs.Delivered - baseline) / elapsed.TotalSeconds, timedOut, serverUs, clientUs);
    }
}
