using Google.Protobuf;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Session;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Tests.Behaviour;

public class RatchetTests
{
    [Fact]
    public void PingPongOverManyTurnsDecryptsEverything()
    {
        using var c = Conversation.Start();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"b{i}", c.AliceReads(c.BobSends($"b{i}")));
            Assert.Equal($"a{i}", c.BobReads(c.AliceSends($"a{i}")));
            if (i % 7 == 0)
            {
                c.Persist();
            }
        }
    }

    [Fact]
    public void OutOfOrderMessagesAcrossRatchetStepsDecryptExactlyOnce()
    {
        using var c = Conversation.Start();
        var a1 = c.AliceSends("a1");
        var a2 = c.AliceSends("a2");
        var a3 = c.AliceSends("a3");
        Assert.Equal("a3", c.BobReads(a3));
        var b1 = c.BobSends("b1");
        Assert.Equal("b1", c.AliceReads(b1));
        var a4 = c.AliceSends("a4");
        Assert.Equal("a4", c.BobReads(a4));
        Assert.Equal("a1", c.BobReads(a1));
        c.Persist();
        Assert.Equal("a2", c.BobReads(a2));

        foreach (var old in new[] { a1, a2, a3, a4 })
        {
            var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(old));
            Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
        }
    }

    [Fact]
    public void ReplayOfTheLatestMessageIsReportedAsReplay()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var message = c.AliceSends("once");
        Assert.Equal("once", c.BobReads(message));

        var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(message));
        Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
    }

    [Fact]
    public void ReplayFromARetiredChainIsReportedAsReplay()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var old = c.AliceSends("old chain");
        Assert.Equal("old chain", c.BobReads(old));
        for (var i = 0; i < 3; i++)
        {
            c.AliceReads(c.BobSends("turn"));
            c.BobReads(c.AliceSends("turn"));
        }

        var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(old));
        Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
    }

    [Fact]
    public void TamperedCiphertextIsRejectedAndTheNextGenuineMessageStillDecrypts()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var message = RatchetSession.ParseMessage(c.AliceSends("genuine"));
        var bytes = message.Ratchet.Ciphertext.ToByteArray();
        bytes[3] ^= 0x01;
        var forged = message.Clone();
        forged.Ratchet.Ciphertext = ByteString.CopyFrom(bytes);
        var before = c.BobSession.Serialize();

        var error = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(forged));

        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
        Assert.Equal(before, c.BobSession.Serialize());
        Assert.Equal("genuine"u8.ToArray(), c.BobSession.Decrypt(message));
    }

    [Fact]
    public void TamperedHeaderRatchetKeyFailsWithoutChangingState()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var message = RatchetSession.ParseMessage(c.AliceSends("genuine"));
        var header = message.Ratchet.Header.ToByteArray();
        header[0] ^= 0x80;
        var forged = message.Clone();
        forged.Ratchet.Header = ByteString.CopyFrom(header);
        var before = c.BobSession.Serialize();

        var error = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(forged));

        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
        Assert.Equal(before, c.BobSession.Serialize());
        Assert.Equal("genuine"u8.ToArray(), c.BobSession.Decrypt(message));
    }

    [Fact]
    public void TruncatedCiphertextIsRejected()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var message = RatchetSession.ParseMessage(c.AliceSends("genuine message"));
        var forged = message.Clone();
        forged.Ratchet.Ciphertext = ByteString.CopyFrom(message.Ratchet.Ciphertext.Span[..^4]);

        var error = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(forged));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);

        var tooShort = message.Clone();
        tooShort.Ratchet.Ciphertext = ByteString.CopyFrom(new byte[5]);
        Assert.Equal(ProtocolErrorKind.Malformed, Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(tooShort)).Kind);

        var badHeader = message.Clone();
        badHeader.Ratchet.Header = ByteString.CopyFrom(new byte[39]);
        Assert.Equal(ProtocolErrorKind.Malformed, Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(badHeader)).Kind);
    }

    [Fact]
    public void MessageMoreThanMaxSkipAheadIsRejectedAndSessionContinues()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        for (var i = 0; i <= RatchetLimits.MaxSkip; i++)
        {
            c.AliceSends("lost");
        }

        var far = c.AliceSends("far");
        var before = c.BobSession.Serialize();
        var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(far));

        Assert.Equal(ProtocolErrorKind.TooFarAhead, error.Kind);
        Assert.Equal(before, c.BobSession.Serialize());
    }

    [Fact]
    public void MessageExactlyMaxSkipAheadDecrypts()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        for (var i = 0; i < RatchetLimits.MaxSkip; i++)
        {
            c.AliceSends("lost");
        }

        Assert.Equal("edge", c.BobReads(c.AliceSends("edge")));
    }

    [Fact]
    public void StoredSkippedKeysAreBoundedAndTheOldestEvicted()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var firstSkipped = c.AliceSends("first skipped");
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < RatchetLimits.MaxSkip - 1; i++)
            {
                c.AliceSends("skipped");
            }

            c.BobReads(c.AliceSends("arrives"));
            c.AliceReads(c.BobSends("turn"));
        }

        var stored = RatchetSession.Deserialize(c.BobSession.Serialize());
        stored.Dispose();
        Assert.True(SkippedCount(c.BobSession) <= RatchetLimits.MaxStoredSkippedKeys);

        // The first skipped key was evicted, so its message cannot be decrypted any more.
        var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(firstSkipped));
        Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
    }

    [Fact]
    public void EmptyAndLargeMessagesRoundTrip()
    {
        using var c = Conversation.Start();
        Assert.Empty(c.BobSession.Decrypt(c.AliceSession.Encrypt([])));
        var large = new byte[256 * 1024];
        System.Security.Cryptography.RandomNumberGenerator.Fill(large);
        Assert.Equal(large, c.BobSession.Decrypt(c.AliceSession.Encrypt(large)));
    }

    [Fact]
    public void MessageFromAnotherSessionIsTampered()
    {
        using var first = Conversation.Start();
        using var second = Conversation.Start();
        first.AliceReads(first.BobSends("establish"));
        second.AliceReads(second.BobSends("establish"));

        var error = Assert.Throws<ParleyProtocolException>(() => first.BobReads(second.AliceSends("wrong session")));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
    }

    [Fact]
    public void ReflectedMessageIsRejected()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var own = c.AliceSends("to bob");

        var error = Assert.Throws<ParleyProtocolException>(() => c.AliceReads(own));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
    }

    [Fact]
    public void CorruptSessionStateIsMalformed()
    {
        using var c = Conversation.Start();
        var bytes = c.AliceSession.Serialize();
        Assert.Equal(ProtocolErrorKind.Malformed, Assert.Throws<ParleyProtocolException>(() => RatchetSession.Deserialize(bytes.AsSpan(0, bytes.Length / 2))).Kind);
        Assert.Equal(ProtocolErrorKind.Malformed, Assert.Throws<ParleyProtocolException>(() => RatchetSession.Deserialize([1, 2, 3])).Kind);
    }

    internal static int SkippedCount(RatchetSession session) =>
        Internal.Stored.SessionState.Parser.ParseFrom(session.Serialize()).Skipped.Count;
}
