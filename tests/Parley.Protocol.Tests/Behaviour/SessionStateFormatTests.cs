using Google.Protobuf;
using Parley.Protocol.Session;
using SessionState = Parley.Protocol.Internal.Stored.SessionState;

namespace Parley.Protocol.Tests.Behaviour;

/// <summary>
/// RatchetSession.Serialize and Deserialize write and read the SessionState message of
/// local_state.proto directly (Session/SessionStateFormat.cs). These tests hold them to the
/// generated protobuf code: the same bytes out, and everything the generated code writes read back.
/// </summary>
public class SessionStateFormatTests
{
    /// <summary>Sessions in every shape the state takes: pending prekey, skipped keys, retired chains.</summary>
    private static IEnumerable<(string Name, RatchetSession Session)> Shapes(Conversation c)
    {
        // Alice before any reply: PendingPreKey set, no receiving chain.
        yield return ("initiator awaiting reply", c.AliceSession);

        // Bob after accepting: receiving chain, and the initiator flag false.
        yield return ("responder", c.BobSession);

        // Skipped keys: Bob reads only the last of three.
        c.AliceSends("1");
        c.AliceSends("2");
        c.BobReads(c.AliceSends("3"));
        yield return ("responder with skipped keys", c.BobSession);

        // Retired chains: more turns than the retired list keeps.
        for (var i = 0; i < 12; i++)
        {
            c.AliceReads(c.BobSends("b"));
            c.BobReads(c.AliceSends("a"));
        }

        yield return ("initiator after many turns", c.AliceSession);
        yield return ("responder after many turns", c.BobSession);
    }

    [Fact]
    public void SerializeWritesExactlyWhatTheGeneratedCodeWrites()
    {
        using var c = Conversation.Start();
        foreach (var (name, session) in Shapes(c))
        {
            var bytes = session.Serialize();
            var generated = SessionState.Parser.ParseFrom(bytes);
            Assert.True(bytes.AsSpan().SequenceEqual(generated.ToByteArray()), name);
        }
    }

    [Fact]
    public void DeserializeRestoresWhatTheGeneratedCodeWrote()
    {
        using var c = Conversation.Start();
        foreach (var (name, session) in Shapes(c))
        {
            var generatedBytes = SessionState.Parser.ParseFrom(session.Serialize()).ToByteArray();
            using var restored = RatchetSession.Deserialize(generatedBytes);
            Assert.True(generatedBytes.AsSpan().SequenceEqual(restored.Serialize()), name);
            Assert.Equal(session.LocalIdentity, restored.LocalIdentity);
            Assert.Equal(session.RemoteIdentity, restored.RemoteIdentity);
            Assert.Equal(session.IsInitiator, restored.IsInitiator);
            Assert.Equal(session.AwaitingFirstReply, restored.AwaitingFirstReply);
            Assert.True(session.BaseKey.SequenceEqual(restored.BaseKey), name);
        }
    }

    [Fact]
    public void RestoredSessionsKeepTalking()
    {
        using var c = Conversation.Start();
        c.AliceSends("lost 1");
        c.AliceSends("lost 2");
        var late = c.AliceSends("late");
        c.BobReads(c.AliceSends("now"));
        c.Persist();
        Assert.Equal("late", c.BobReads(late));
        c.Persist();
        Assert.Equal("back", c.AliceReads(c.BobSends("back")));
        c.Persist();
        Assert.Equal("forth", c.BobReads(c.AliceSends("forth")));
    }

    [Fact]
    public void UnknownFieldsAreSkipped()
    {
        using var c = Conversation.Start();
        var bytes = c.BobSession.Serialize();

        // Field 99 as a varint, a fixed64, a fixed32 and a bytes value.
        byte[] unknown = [0x98, 0x06, 0x2A, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9D, 0x06, 1, 2, 3, 4, 0x9A, 0x06, 2, 0xAB, 0xCD];
        using var restored = RatchetSession.Deserialize([.. unknown, .. bytes, .. unknown]);
        Assert.True(bytes.AsSpan().SequenceEqual(restored.Serialize()));
    }

    [Fact]
    public void RepeatedSingularFieldsKeepTheLastValueAsTheGeneratedCodeDoes()
    {
        using var c = Conversation.Start();
        var first = c.BobSession.Serialize();
        c.BobReads(c.AliceSends("next"));
        var second = c.BobSession.Serialize();
        byte[] concatenated = [.. first, .. second];

        var generated = new SessionState();
        generated.MergeFrom(concatenated);
        using var restored = RatchetSession.Deserialize(concatenated);
        Assert.True(generated.ToByteArray().AsSpan().SequenceEqual(restored.Serialize()));
    }

    [Fact]
    public void AnotherVersionIsRefused()
    {
        using var c = Conversation.Start();
        var state = SessionState.Parser.ParseFrom(c.AliceSession.Serialize());
        state.Version = 2;
        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Deserialize(state.ToByteArray()));
        Assert.Equal(ProtocolErrorKind.UnsupportedVersion, error.Kind);
    }

    [Fact]
    public void KeysOfTheWrongLengthAreMalformed()
    {
        using var c = Conversation.Start();
        var original = SessionState.Parser.ParseFrom(c.BobSession.Serialize());
        foreach (var corrupt in new Action<SessionState>[]
        {
            s => s.RootKey = ByteString.CopyFrom(new byte[31]),
            s => s.SendingRatchetPrivate = ByteString.Empty,
            s => s.ReceivingChainKey = ByteString.CopyFrom(new byte[33]),
            s => s.BaseKey = ByteString.Empty,
            s => s.LocalIdentity = null,
            s => s.RemoteIdentity.DhKey = ByteString.CopyFrom(new byte[31]),
            s => s.Skipped.Add(new Internal.Stored.SkippedMessageKey { RatchetKey = ByteString.CopyFrom(new byte[32]), MessageKey = ByteString.CopyFrom(new byte[16]) }),
            s => s.Retired.Add(new Internal.Stored.RetiredChain { RatchetKey = ByteString.CopyFrom(new byte[3]) }),
        })
        {
            var state = original.Clone();
            corrupt(state);
            var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Deserialize(state.ToByteArray()));
            Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
        }
    }

    [Fact]
    public void DamagedBytesGiveAProtocolErrorOrAWorkingSessionAndNothingElse()
    {
        using var c = Conversation.Start();
        c.AliceSends("skipped");
        c.BobReads(c.AliceSends("read"));
        var bytes = c.BobSession.Serialize();
        var random = new Random(1);
        for (var i = 0; i < 3000; i++)
        {
            var damaged = i % 3 == 0 ? bytes[..random.Next(bytes.Length)] : (byte[])bytes.Clone();
            if (i % 3 != 0)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            try
            {
                RatchetSession.Deserialize(damaged).Dispose();
            }
            catch (ParleyProtocolException)
            {
                // Expected for most damage; any other exception type fails the test.
            }
        }
    }
}
