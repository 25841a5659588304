using System.Diagnostics;
using Parley.Load.Reporting;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// C idle connected clients, each as a client holds itself ready: its own TLS connection,
/// logged in, with its Receive stream open (the server has pushed its caught-up marker). Reports
/// how long connecting them all took and the server's RSS growth per connection.
/// </summary>
internal static class ConnectionsScenario
{
    internal sealed record Options(int Connections = 10_000, int Parallelism = 64, TimeSpan? Settle = null);


    internal static async Task<ScenarioResult> RunAsync(ServerUnderTest server, LoadSettings settings, Options options, CancellationToken cancellationToken)
    {
        FileLimit.RaiseTo(options.Connections + 1024);
        var registered = 0;
        var users = await ProgressDisplay.RunAsync(settings, $"registering {options.Connections:N0} users (cached after)", options.Connections, () => registered, () =>
            Population.PrepareAsync(server, options.Connections, connect: false, parallelism: 16, progress: n => registered = n, cancellationToken));
        var inboxes = new Inbox?[users.Count];
        try
        {
            var settle = options.Settle ?? TimeSpan.FromSeconds(5);
            await Task.Delay(settle, cancellationToken);
            var before = server.ResidentBytes();
            var connected = 0;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.MaxDuration);
            var started = Stopwatch.GetTimestamp();
            await ProgressDisplay.RunAsync(settings, $"connections: {options.Connections:N0}", options.Connections, () => connected, async () =>
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, users.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = deadline.Token }, async (i, ct) =>
                {
                    await users[i].ConnectAsync(server, ct);
                    var inbox = Inbox.Open(users[i], static (_, _) => { }, cancellationToken);
                    inboxes[i] = inbox;
                    await inbox.CaughtUp.WaitAsync(ct);
                    Interlocked.Increment(ref connected);
                });
                return 0;
            });
            var connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await Task.Delay(settle, cancellationToken);
            var after = server.ResidentBytes();
            var stillOpen = inboxes.Count(i => i is { Completion.IsCompleted: false });
            var result = new ScenarioResult("connections", server.Storage)
                .Add("connections", options.Connections, "connections (TLS, logged in, Receive stream open)")
                .Add("open_after_settle", stillOpen, "still open after settling")
                .Add("connect_seconds", connectSeconds, "seconds to connect all")
                .Add("connects_per_s", options.Connections / connectSeconds, "connections/s");
            if (before is { } b && after is { } a)
            {
                result.Add("server_rss_before_bytes", b, "server RSS before (bytes)")
                    .Add("server_rss_after_bytes", a, "server RSS with all connected (bytes)")
                    .Add("rss_bytes_per_connection", (double)(a - b) / options.Connections, "server RSS per connection (bytes)");
            }

            return result;
        }
        finally
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, users.Count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            {
                if (inboxes[i] is { } inbox)
                {
                    await inbox.DisposeAsync();
                }

                await users[i].DisposeAsync();
            });
        }
    }
}
