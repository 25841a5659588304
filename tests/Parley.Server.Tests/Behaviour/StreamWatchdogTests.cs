using System.Diagnostics;
using Parley.Server.Delivery;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// The one clock of every Receive stream (<see cref="StreamWatchdog"/> ticks
/// <see cref="MailboxSignals.Check"/>): the poll and the stuck-write deadline, given explicit
/// timestamps so that nothing here waits on the wall clock.
/// </summary>
public sealed class StreamWatchdogTests
{
    private static readonly long Second = Stopwatch.Frequency;

    [Fact]
    public async Task StreamIsWokenForAPollOnceThePollIntervalPassesWithoutARead()
    {
        var signals = new MailboxSignals();
        using var bob = signals.Listen("bob", 1);
        bob.StoreRead();
        var readAt = Stopwatch.GetTimestamp();

        signals.Check(readAt, pollTicks: 5 * Second, writeTicks: 30 * Second);
        var waiting = bob.WaitAsync();
        Assert.False(waiting.IsCompleted);
        Assert.False(bob.TakePollDue());

        signals.Check(readAt + (6 * Second), pollTicks: 5 * Second, writeTicks: 30 * Second);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(bob.TakePollDue());

        // Taking the poll restarts its clock: the next tick a moment later polls nothing.
        Assert.False(bob.TakePollDue());
        signals.Check(Stopwatch.GetTimestamp() + Second, pollTicks: 5 * Second, writeTicks: 30 * Second);
        Assert.False(bob.TakePollDue());
        Assert.Equal(MailboxSignals.StreamEnd.None, bob.EndReason);
    }

    [Fact]
    public void StreamWhoseWriteIsStuckForTheTimeoutIsEndedAndOthersAreNot()
    {
        var signals = new MailboxSignals();
        using var bob = signals.Listen("bob", 1);
        using var carol = signals.Listen("carol", 1);
        using var dave = signals.Listen("dave", 1);
        bob.BeginWrite();
        carol.BeginWrite();
        carol.EndWrite();
        var now = Stopwatch.GetTimestamp();

        signals.Check(now + Second, pollTicks: 60 * Second, writeTicks: 2 * Second);
        Assert.Equal(MailboxSignals.StreamEnd.None, bob.EndReason);

        signals.Check(now + (3 * Second), pollTicks: 60 * Second, writeTicks: 2 * Second);
        Assert.Equal(MailboxSignals.StreamEnd.SlowReader, bob.EndReason);
        Assert.True(bob.Disconnected.IsCancellationRequested);
        Assert.Equal(MailboxSignals.StreamEnd.None, carol.EndReason);

        // A write that started a second ago is not past a 2-second timeout.
        dave.BeginWrite();
        signals.Check(Stopwatch.GetTimestamp() + Second, pollTicks: 60 * Second, writeTicks: 2 * Second);
        Assert.Equal(MailboxSignals.StreamEnd.None, dave.EndReason);
    }
}
