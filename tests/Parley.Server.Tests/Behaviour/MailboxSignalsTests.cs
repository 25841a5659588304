using Parley.Server.Delivery;

namespace Parley.Server.Tests.Behaviour;

/// <summary>The takeover rule of <see cref="MailboxSignals"/>: the stream with the higher generation wins, whatever the order events arrive in.</summary>
public sealed class MailboxSignalsTests
{
    [Fact]
    public void NewerLocalStreamEndsTheOlderOne()
    {
        var signals = new MailboxSignals();
        using var older = signals.Listen("bob", 5);
        using var newer = signals.Listen("bob", 6);

        Assert.Equal(MailboxSignals.StreamEnd.TakenOver, older.EndReason);
        Assert.True(older.Disconnected.IsCancellationRequested);
        Assert.Equal(MailboxSignals.StreamEnd.None, newer.EndReason);
    }

    [Fact]
    public void TakeOverFromAnotherNodeEndsOnlyOlderStreams()
    {
        var signals = new MailboxSignals();
        using var bob = signals.Listen("bob", 7);
        using var carol = signals.Listen("carol", 3);

        signals.TakeOver("bob", 6);
        Assert.Equal(MailboxSignals.StreamEnd.None, bob.EndReason);

        signals.TakeOver("bob", 8);
        Assert.Equal(MailboxSignals.StreamEnd.TakenOver, bob.EndReason);
        Assert.Equal(MailboxSignals.StreamEnd.None, carol.EndReason);
    }

    [Fact]
    public void StreamThatRegistersAfterANewerTakeOverYieldsAtOnce()
    {
        var signals = new MailboxSignals();

        // Another node's newer stream was announced before this node's older one registered.
        signals.TakeOver("bob", 9);
        using var late = signals.Listen("bob", 8);
        Assert.Equal(MailboxSignals.StreamEnd.TakenOver, late.EndReason);

        using var newer = signals.Listen("bob", 10);
        Assert.Equal(MailboxSignals.StreamEnd.None, newer.EndReason);
    }

    [Fact]
    public void StreamOpenedWithoutRedisIsNotEndedByAnEarlierTakeOver()
    {
        var signals = new MailboxSignals();
        signals.TakeOver("bob", 9);

        // Generation 0: Redis was unreachable when it opened, so it cannot be ordered; it stays.
        using var unordered = signals.Listen("bob", 0);
        Assert.Equal(MailboxSignals.StreamEnd.None, unordered.EndReason);
    }

    [Fact]
    public void FirstReasonToEndAStreamSticks()
    {
        var signals = new MailboxSignals();
        using var bob = signals.Listen("bob", 1);
        signals.Disconnect("bob");
        signals.TakeOver("bob", 2);
        Assert.Equal(MailboxSignals.StreamEnd.Revoked, bob.EndReason);
    }
}
