using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Parley.Server.Cluster;
using Parley.Server.Hosting;

namespace Parley.Server.Delivery;

/// <summary>
/// The clock of every Receive stream on this node, as one timer rather than two per stream: it
/// wakes a stream that has not read its mailbox for the poll interval (the safety net under the
/// wake-ups), and ends a stream whose write has been stuck for
/// <see cref="ServerOptions.ReceiveWriteTimeout"/> (a client that stopped reading). Per-stream
/// timers cost every idle connection a timer, a linked cancellation source and a timed wait, and
/// every pushed envelope two timer-queue operations.
/// </summary>
internal sealed class StreamWatchdog(MailboxSignals signals, ClusterLink cluster, ServerOptions options) : BackgroundService
{
    /// <summary>The longest tick: the poll and the write deadline are kept to within this.</summary>
    internal static readonly TimeSpan MaxTick = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Read each time: the poll interval shortens while Redis is unreachable.
                var poll = cluster.PollInterval;
                var tick = Clamp(Min(poll, options.ReceiveWriteTimeout) / 4);
                await Task.Delay(tick, stoppingToken).ConfigureAwait(false);
                signals.Check(Stopwatch.GetTimestamp(), Ticks(poll), Ticks(options.ReceiveWriteTimeout));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Clamp(TimeSpan tick) => tick < MinTick ? MinTick : tick > MaxTick ? MaxTick : tick;

    /// <summary>A span in <see cref="Stopwatch"/> ticks; an interval long enough to mean "never" saturates.</summary>
    private static long Ticks(TimeSpan span) =>
        span.TotalSeconds >= long.MaxValue / (double)Stopwatch.Frequency / 2 ? long.MaxValue / 2 : (long)(span.TotalSeconds * Stopwatch.Frequency);
}
