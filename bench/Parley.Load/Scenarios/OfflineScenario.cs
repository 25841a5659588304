using System.Diagnostics;
using Parley.Load.Reporting;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// M messages are sent (and committed) to receivers that are offline; then the receivers connect,
/// log in and drain their mailboxes. The rate is M over the time from the first reconnect to the
/// last message decrypted.
/// </summary>
internal static class OfflineScenario
{
    internal sealed record Options(int Pairs = 10, int Messages = 10_000, int Window = 32);

    internal static async Task<ScenarioResult> RunAsync(ServerUnderTest server, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        var perPair = Math.Max(1, options.Messages / options.Pairs);
        var total = perPair * options.Pairs;
        var users = await Population.PrepareAsync(server, options.Pairs * 2, connect: true, parallelism: 16, progress: null, cancellationToken);
        try
        {
            await using var pairs = await PairedUsers.OpenAsync(server, settings, users, perPair, cancellationToken);
            await pairs.TakeReceiversOfflineAsync();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.MaxDuration);

            var sent = 0;
            var sendStarted = Stopwatch.GetTimestamp();
            await ProgressDisplay.RunAsync(settings, $"offline: queueing {total:N0}", total, () => sent, async () =>
            {
                var next = new int[options.Pairs];
                await Task.WhenAll(Enumerable.Range(0, options.Pairs * options.Window).Select(lane => Task.Run(
                    async () =>
                    {
                        var pair = lane % options.Pairs;
                        int sequence;
                        while ((sequence = Interlocked.Increment(ref next[pair]) - 1) < perPair)
                        {
                            await pairs.SendDataAsync(pair, sequence, deadline.Token);
                            Interlocked.Increment(ref sent);
                        }
                    },
                    deadline.Token)));
                return 0;
            });
            var queueSeconds = Stopwatch.GetElapsedTime(sendStarted).TotalSeconds;

            var drainStarted = Stopwatch.GetTimestamp();
            await ProgressDisplay.RunAsync(settings, $"offline: draining {total:N0}", total, () => pairs.Delivered, async () =>
            {
                await pairs.BringReceiversOnlineAsync(options.Pairs, deadline.Token);
                while (pairs.Delivered < total)
                {
                    await Task.Delay(2, deadline.Token);
                }

                return 0;
            });
            var drainSeconds = Stopwatch.GetElapsedTime(drainStarted, pairs.LastDeliveredTimestamp).TotalSeconds;
            return new ScenarioResult("offline", server.Storage)
                .Add("pairs", options.Pairs, "offline receivers")
                .Add("messages", total, "messages queued")
                .Add("queue_msgs_per_s", total / queueSeconds, "queued (committed) msgs/s")
                .Add("delivered", pairs.Delivered, "delivered and decrypted")
                .Add("duplicates", pairs.Duplicates, "duplicates")
                .Add("missing", pairs.Missing(perPair), "missing")
                .Add("stale", pairs.Stale, "leftovers of an earlier run, acked unread")
                .Add("decrypt_failures", pairs.DecryptFailures, "decrypt failures")
                .Add("drain_seconds", drainSeconds, "seconds from reconnect to last decrypted")
                .Add("drain_msgs_per_s", total / drainSeconds, "drain msgs/s");
        }
        finally
        {
            foreach (var user in users)
            {
                await user.DisposeAsync();
            }
        }
    }
}
