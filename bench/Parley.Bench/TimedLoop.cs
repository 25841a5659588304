using System.Diagnostics;

namespace Parley.Bench;

/// <summary>
/// The anchor's loop: run an operation again and again for a fixed time on one thread and count.
/// The clock is read between batches of about 5 ms, so even a 100 ns operation is timed fairly.
/// </summary>
internal static class TimedLoop
{
    private const double BatchSeconds = 0.005;

    /// <summary>Operations per second of <paramref name="operation"/> (called with a running index) over <paramref name="seconds"/>.</summary>
    internal static double Run(double seconds, Action<long> operation)
    {
        long done = 0;
        var batch = 1L;
        var limit = (long)(seconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            for (var i = 0L; i < batch; i++)
            {
                operation(done + i);
            }

            done += batch;
            var elapsed = Stopwatch.GetTimestamp() - start;
            if (elapsed >= limit)
            {
                return done * (double)Stopwatch.Frequency / elapsed;
            }

            var perOperation = Math.Max((double)elapsed / done, 1e-3);
            batch = Math.Clamp((long)(BatchSeconds * Stopwatch.Frequency / perOperation), 1, 1_000_000);
            // Never run past the end by more than one batch's worth of the remaining time.
            batch = Math.Min(batch, Math.Max(1, (long)((limit - elapsed) / perOperation)));
        }
    }

    /// <summary>Warms up for <paramref name="warmupSeconds"/>, then measures for <paramref name="seconds"/>.</summary>
    internal static double WarmThenRun(double warmupSeconds, double seconds, Action<long> operation)
    {
        Run(warmupSeconds, operation);
        return Run(seconds, operation);
    }
}
