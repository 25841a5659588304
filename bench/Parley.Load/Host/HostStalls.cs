using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Parley.Load.Host;

/// <summary>
/// Whether the machine itself stops running this process. One thread per core reads the clock in a
/// loop and keeps every gap over a millisecond (a time it did not run), first with nothing else
/// running, then beside a loop that writes 4 KiB and fsyncs it. A VM whose host enforces its CPU
/// budget per period (the host's own work for the VM's disk counts against it) shows, in the second
/// phase, gaps of several milliseconds on every core at once, once per period at the same phase:
/// messages in flight at that moment wait for it, and a latency tail of that length is the host's.
/// </summary>
internal static class HostStalls
{
    private static readonly long GapTicks = Stopwatch.Frequency / 1000;

    /// <summary>One gap: when it ended, in milliseconds from the phase's start, and how long it was.</summary>
    internal readonly record struct Stall(double EndMilliseconds, double Milliseconds);

    internal sealed record Phase(TimeSpan Duration, int Threads, IReadOnlyList<Stall> Stalls, long Fsyncs)
    {
        /// <summary>Milliseconds each spinning thread did not run, per second.</summary>
        internal double StalledMillisecondsPerSecond => Stalls.Sum(s => s.Milliseconds) / Threads / Duration.TotalSeconds;

        internal double LongestMilliseconds => Stalls.Count == 0 ? 0 : Stalls.Max(s => s.Milliseconds);

        internal double FsyncsPerSecond => Fsyncs / Duration.TotalSeconds;

        internal double? PeriodMilliseconds => Period(Stalls);
    }

    /// <summary>
    /// Spins <paramref name="threads"/> threads (one per core unless told) for <paramref name="duration"/>,
    /// and with <paramref name="disk"/> also writes and fsyncs a file in <paramref name="directory"/>.
    /// </summary>
    internal static Phase Measure(TimeSpan duration, bool disk, string directory, int? threads = null)
    {
        var count = threads ?? Environment.ProcessorCount;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var found = new List<Stall>[count];
        var spinners = Enumerable.Range(0, count).Select(i => new Thread(() => found[i] = Spin(start, end)) { IsBackground = true }).ToArray();
        foreach (var spinner in spinners)
        {
            spinner.Start();
        }

        var fsyncs = disk ? WriteAndSync(directory, end) : 0;
        foreach (var spinner in spinners)
        {
            spinner.Join();
        }

        return new Phase(duration, count, found.SelectMany(f => f).OrderBy(s => s.EndMilliseconds).ToList(), fsyncs);
    }

    /// <summary>
    /// The interval at which bursts of stalls recur, to 10 ms, when one interval is most of them;
    /// null otherwise. Stalls that end within 20 ms of a burst's first belong to that burst.
    /// </summary>
    internal static double? Period(IReadOnlyList<Stall> stalls)
    {
        var bursts = new List<double>();
        foreach (var stall in stalls.OrderBy(s => s.EndMilliseconds))
        {
            if (bursts.Count == 0 || stall.EndMilliseconds - bursts[^1] > 20)
            {
                bursts.Add(stall.EndMilliseconds);
            }
        }

        if (bursts.Count < 5)
        {
            return null;
        }

        var intervals = bursts.Zip(bursts.Skip(1), (a, b) => Math.Round((b - a) / 10) * 10).ToList();
        var mode = intervals.GroupBy(i => i).OrderByDescending(g => g.Count()).First();
        return mode.Count() * 2 >= intervals.Count ? mode.Key : null;
    }

    private static List<Stall> Spin(long start, long end)
    {
        var stalls = new List<Stall>();
        var last = Stopwatch.GetTimestamp();
        while (last < end)
        {
            var now = Stopwatch.GetTimestamp();
            if (now - last > GapTicks)
            {
                stalls.Add(new Stall((now - start) * 1000.0 / Stopwatch.Frequency, (now - last) * 1000.0 / Stopwatch.Frequency));
            }

            last = now;
        }

        return stalls;
    }

    private static long WriteAndSync(string directory, long end)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"host-stalls-{Environment.ProcessId}.tmp");
        var page = new byte[4096];
        long fsyncs = 0;
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            using var stream = new FileStream(file, FileAccess.ReadWrite, bufferSize: 0);
            while (Stopwatch.GetTimestamp() < end)
            {
                RandomAccess.Write(file, page, fsyncs % 256 * page.Length);
                stream.Flush(flushToDisk: true);
                fsyncs++;
            }
        }
        finally
        {
            File.Delete(path);
        }

        return fsyncs;
    }
}
