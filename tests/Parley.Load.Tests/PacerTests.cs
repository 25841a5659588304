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

    [Fact]
    public async Task OfferAsync_StartsEverySendOnceInOrderAndNoSoonerThanTheSchedule()
    {
        const int Total = 40;
        const double Rate = 2_000;
        var started = new List<int>();
        using var inFlight = new SemaphoreSlim(Total);
        var before = Stopwatch.GetTimestamp();

        await Pacer.OfferAsync(Rate, Total, inFlight, started.Add, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, Total), started);
        // The last send is due (Total - 1) / Rate after the first: the schedule was not compressed.
        Assert.True(Stopwatch.GetElapsedTime(before) >= TimeSpan.FromSeconds((Total - 1) / Rate));
    }

    [Fact]
    public async Task OfferAsync_WaitsForRoomInFlight()
    {
        using var inFlight = new SemaphoreSlim(2);
        var started = 0;

        var offering = Pacer.OfferAsync(10_000, 5, inFlight, _ => Interlocked.Increment(ref started), CancellationToken.None);
        await Task.Delay(200);

        // No send released its slot: only two could start.
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.False(offering.IsCompleted);
        inFlight.Release(3);
        // The three held back started over 1 ms after they were due, and are counted so.
        Assert.InRange(await offering, 3, 5);
        Assert.Equal(5, started);
    }
}
