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

    /// <summary>Sends unfinished at once before the pacer waits: far above what a healthy run holds, so that a stalled one ends instead of queueing without bound.</summary>
    internal const int DefaultMaxInFlight = 4096;

    /// <summary>
    /// Starts send k of <paramref name="total"/> at start + k/<paramref name="rate"/> on a thread of
    /// its own (open loop: whatever happened to the ones before), each once fewer than
    /// <paramref name="maxInFlight"/> are unfinished; <paramref name="send"/> runs on that thread up
    /// to its first wait. Completes when every send has; returns how many started over 1 ms late:
    /// the schedule the receiver saw was not the one offered.
    /// </summary>
    internal static async Task<long> OfferAsync(double rate, int total, int maxInFlight, Func<int, Task> send, CancellationToken cancellationToken)
    {
        var inFlight = new SemaphoreSlim(maxInFlight);
        var sends = new List<Task>(total);
        async Task SendAsync(int k)
        {
            try
            {
                await send(k);
            }
            finally
            {
                inFlight.Release();
            }
        }

        var offered = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pacer = new Thread(() =>
        {
            try
            {
                var lagged = 0L;
                var started = Stopwatch.GetTimestamp();
                var ticksPerMessage = Stopwatch.Frequency / rate;
                for (var k = 0; k < total; k++)
                {
                    var due = started + (long)(k * ticksPerMessage);
                    SleepUntil(due);
                    inFlight.Wait(cancellationToken);
                    if (Stopwatch.GetTimestamp() - due > Stopwatch.Frequency / 1000)
                    {
                        lagged++;
                    }

                    sends.Add(SendAsync(k));
                }

                offered.SetResult(lagged);
            }
#pragma warning disable CA1031 // the pacer's failure is the run's, handed to the awaiting task
            catch (Exception e)
#pragma warning restore CA1031
            {
                offered.SetException(e);
            }
        })
        { IsBackground = true, Name = "parley-load-pacer" };
        pacer.Start();
        var lagged = await offered.Task;
        await Task.WhenAll(sends);
        return lagged;
    }

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
