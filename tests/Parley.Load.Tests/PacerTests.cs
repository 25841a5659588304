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
        var before = Stopwatch.GetTimestamp();

        await Pacer.OfferAsync(Rate, Total, maxInFlight: Total, k =>
        {
            started.Add(k);
            return Task.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, Total), started);
        // The last send is due (Total - 1) / Rate after the first: the schedule was not compressed.
        Assert.True(Stopwatch.GetElapsedTime(before) >= TimeSpan.FromSeconds((Total - 1) / Rate));
    }

    [Fact]
    public async Task OfferAsync_WaitsForRoomInFlightAndForEverySend()
    {
        var finishes = Enumerable.Range(0, 5).Select(_ => new TaskCompletionSource()).ToArray();
        var started = 0;

        var offering = Pacer.OfferAsync(10_000, 5, maxInFlight: 2, k =>
        {
            Interlocked.Increment(ref started);
            return finishes[k].Task;
        }, CancellationToken.None);
        await Task.Delay(200);

        // No send finished: only two could start.
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.False(offering.IsCompleted);
        foreach (var finish in finishes[..^1])
        {
            finish.SetResult();
        }

        await Task.Delay(200);
        Assert.Equal(5, Volatile.Read(ref started));
        // The pacer has started every send, but the last has not finished.
        Assert.False(offering.IsCompleted);
        finishes[^1].SetResult();

        // The three held back started over 1 ms after they were due, and are counted so.
        Assert.InRange(await offering, 3, 5);
        Assert.Equal(5, started);
    }
}
