using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Parley.Load.Scenarios;

/// <summary>
/// Sleeps until a Stopwatch timestamp with the kernel's precision (tens of microseconds) rather
/// than .NET's timer, which wakes on a 1 ms tick: at thousands of messages per second, that tick
/// turned an open-loop schedule into bursts of every send due within the next millisecond.
/// </summary>
internal static partial class Pacer
{
    private const int ClockMonotonic = 1;
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>Blocks the calling thread until <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal static void SleepUntil(long due)
    {
        while (true)
        {
            var wait = due - Stopwatch.GetTimestamp();
            if (wait <= 0)
            {
                return;
            }

            var nanoseconds = (long)(wait * ((double)NanosecondsPerSecond / Stopwatch.Frequency));
            if (!OperatingSystem.IsLinux())
            {
                Thread.Sleep(TimeSpan.FromTicks(Math.Max(1, nanoseconds / 100)));
                continue;
            }

            var request = new TimeSpec { Seconds = nanoseconds / NanosecondsPerSecond, Nanoseconds = nanoseconds % NanosecondsPerSecond };
            // Interrupted by a signal (EINTR): the loop sleeps the rest.
            _ = ClockNanosleep(ClockMonotonic, 0, in request, IntPtr.Zero);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in TimeSpec request, IntPtr remaining);
}
