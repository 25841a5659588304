using System.Buffers.Binary;
using System.Text;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Session;

namespace Parley.Protocol.Tests.Behaviour;

/// <summary>What a decrypt reports about messages that have not arrived (docs/protocol.md §6.5).</summary>
public class MessageGapTests
{
    [Fact]
    public void MessagesInOrderReportNothingMissing()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        for (var i = 0; i < 3; i++)
        {
            c.BobSession.Decrypt(c.AliceSends($"a{i}"), out var gaps);
            Assert.Same(MessageGaps.None, gaps);
        }
    }

    [Fact]
    public void AMessageAheadOnItsChainOpensTheSkippedRunAndLateOnesCloseIt()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var sent = Enumerable.Range(0, 4).Select(i => c.AliceSends($"a{i}")).ToList();

        Assert.Equal("a3", Read(c, sent[3], out var gaps));
        var run = Assert.Single(gaps.Opened);
        Assert.Equal(Chain(sent[3]), run.Chain.ToArray());
        Assert.Equal((0u, 3u), (run.First, run.Count));
        Assert.Equal(3, gaps.OpenedCount);
        Assert.Null(gaps.Closed);

        c.Persist();
        foreach (var i in new[] { 1, 0, 2 })
        {
            Assert.Equal($"a{i}", Read(c, sent[i], out var late));
            Assert.Empty(late.Opened);
            var closed = Assert.IsType<MissingRun>(late.Closed);
            Assert.Equal((uint)i, closed.First);
            Assert.Equal(1u, closed.Count);
            Assert.True(run.Contains(closed));
        }
    }

    [Fact]
    public void ANewChainOpensThePreviousChainsTailFromItsPreviousCounter()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var first = Enumerable.Range(0, 3).Select(i => c.AliceSends($"a{i}")).ToList();
        Assert.Equal("a0", c.BobReads(first[0]));
        Assert.Equal("b", c.AliceReads(c.BobSends("b")));
        var second = Enumerable.Range(0, 2).Select(i => c.AliceSends($"c{i}")).ToList();

        Assert.Equal("c1", Read(c, second[1], out var gaps));
        Assert.Equal(2, gaps.Opened.Count);
        Assert.Equal(Chain(first[0]), gaps.Opened[0].Chain.ToArray());
        Assert.Equal((1u, 2u), (gaps.Opened[0].First, gaps.Opened[0].Count));
        Assert.Equal(Chain(second[0]), gaps.Opened[1].Chain.ToArray());
        Assert.Equal((0u, 1u), (gaps.Opened[1].First, gaps.Opened[1].Count));
        Assert.Equal(3, gaps.OpenedCount);

        // The old chain's late messages come from the store of skipped keys, and close their place.
        Assert.Equal("a2", Read(c, first[2], out var late));
        Assert.True(gaps.Opened[0].Contains(late.Closed!.Value));
        Assert.False(gaps.Opened[1].Contains(late.Closed!.Value));
    }

    [Fact]
    public void AFirstMessageThatIsNotTheInitiatorsFirstOpensARunWhenAccepted()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var initiator = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var p0 = initiator.Encrypt("p0"u8);
        var p1 = initiator.Encrypt("p1"u8);

        using var accepted = RatchetSession.Accept(bob.Identity, RatchetSession.ParseMessage(p1).PreKey, bob.PreKeys, null, out var plaintext, out var gaps);
        Assert.Equal("p1"u8.ToArray(), plaintext);
        var run = Assert.Single(gaps.Opened);
        Assert.Equal((0u, 1u), (run.First, run.Count));

        Assert.Equal("p0"u8.ToArray(), accepted.Decrypt(p0, out var late));
        Assert.True(run.Contains(late.Closed!.Value));
    }

    [Fact]
    public void AFailedDecryptReportsNothingAndAReplayClosesNothing()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var a0 = c.AliceSends("a0");
        var a1 = c.AliceSends("a1");
        var forged = (byte[])a1.Clone();
        forged[^1] ^= 1;
        Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(forged, out _));

        Assert.Equal("a1", Read(c, a1, out var gaps));
        Assert.Equal(1, gaps.OpenedCount);
        Assert.Equal("a0", Read(c, a0, out _));
        var replay = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(a0, out _));
        Assert.Equal(ProtocolErrorKind.Replayed, replay.Kind);
    }

    [Fact]
    public void KeysEvictedPastTheCapStayMissing()
    {
        // Three chains each skip MaxSkip keys: the store keeps the newest 2000, so the first chain's
        // messages can never be read. They were reported missing when skipped; nothing closes them.
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        byte[]? firstLost = null;
        long opened = 0;
        for (var round = 0; round < 3; round++)
        {
            var skippedOver = c.AliceSends($"r{round} skipped 0");
            firstLost ??= skippedOver;
            for (var i = 1; i < RatchetLimits.MaxSkip; i++)
            {
                c.AliceSends($"r{round} skipped {i}");
            }

            Read(c, c.AliceSends($"r{round} last"), out var gaps);
            opened += gaps.OpenedCount;
            c.AliceReads(c.BobSends($"reply {round}"));
        }

        Assert.Equal(3L * RatchetLimits.MaxSkip, opened);
        var error = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(firstLost!, out _));
        Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
    }

    private static string Read(Conversation c, byte[] message, out MessageGaps gaps) =>
        Encoding.UTF8.GetString(c.BobSession.Decrypt(message, out gaps));

    /// <summary>The sender's ratchet key in a message's header (its first 32 bytes).</summary>
    internal static byte[] Chain(byte[] message) => Header(message)[..32].ToArray();

    internal static uint Counter(byte[] message) => BinaryPrimitives.ReadUInt32BigEndian(Header(message)[36..]);

    private static ReadOnlySpan<byte> Header(byte[] message)
    {
        var parsed = RatchetSession.ParseMessage(message);
        return (parsed.Ratchet ?? parsed.PreKey.Message).Header.Span;
    }
}
