using System.Runtime.InteropServices;

namespace Parley.Bench;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). On a shared machine, time the
/// thread was not running does not count, so costs compared this way are steadier than wall time.
/// </summary>
internal static partial class ThreadClock
{
    private const int ClockThreadCpuTime = 3;

    /// <summary>True where the clock exists (Linux).</summary>
    internal static bool IsSupported { get; } = OperatingSystem.IsLinux() && TryNow(out _);

    /// <summary>Seconds of CPU time this thread has used.</summary>
    internal static double Now() => TryNow(out var seconds) ? seconds : double.NaN;

    private static bool TryNow(out double seconds)
    {
        try
        {
            if (clock_gettime(ClockThreadCpuTime, out var time) == 0)
            {
                seconds = time.Seconds + (time.Nanoseconds * 1e-9);
                return true;
            }
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }

        seconds = double.NaN;
        return false;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
