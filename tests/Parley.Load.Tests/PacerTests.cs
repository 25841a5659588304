using System.Diagnostics;
using Parley.Load.Scenarios;

namespace Parley.Load.Tests;

/// <summary>The latency scenario's pacer never starts a send before it is due (how late it may be is the benchmark's business).</summary>
public sealed class PacerTests
{
    [Theory]
    [InlineData(-5_000)]
    [InlineData(0)]
    [InlineData(150)]
    [InlineData(900)]
    [InlineData(4_000)]
    public void SleepsUntilTheDueTimeAndNotLess(int microseconds)
    {
        for (var i = 0; i < 20; i++)
        {
            var due = Stopwatch.GetTimestamp() + (microseconds * Stopwatch.Frequency / 1_000_000);
            Pacer.SleepUntil(due);
            Assert.True(Stopwatch.GetTimestamp() >= due, $"woke before a due time {microseconds} µs ahead");
        }
    }
}
