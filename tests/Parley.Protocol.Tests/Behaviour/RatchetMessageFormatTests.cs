using Google.Protobuf;
using Parley.Protocol.Session;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Tests.Behaviour;

/// <summary>
/// RatchetSession writes and reads the usual CiphertextMessage (a RatchetMessage body) directly
/// (Session/RatchetMessageFormat.cs). These tests hold it to the generated protobuf code: the same
/// bytes out, and every input decrypted or refused exactly as through ParseMessage.
/// </summary>
public class RatchetMessageFormatTests
{
    [Fact]
    public void EncryptWritesExactlyWhatTheGeneratedCodeWrites()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        foreach (var length in new[] { 0, 1, 15, 16, 100, 111, 112, 113, 256, 1000, 16_367, 16_368, 70_000 })
        {
            var message = c.AliceSession.Encrypt(new byte[length]);
            var generated = CiphertextMessage.Parser.ParseFrom(message);
            Assert.Equal(CiphertextMessage.BodyOneofCase.Ratchet, generated.BodyCase);
            Assert.Equal(length + 16, generated.Ratchet.Ciphertext.Length);
            Assert.True(message.AsSpan().SequenceEqual(generated.ToByteArray()), $"length {length}");
            Assert.Equal(new byte[length], c.BobSession.Decrypt(message));
        }
    }

    [Fact]
    public void OtherEncodingsOfTheSameMessageStillDecrypt()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var parsed = CiphertextMessage.Parser.ParseFrom(c.AliceSends("first"));

        // Fields in another order, and an unknown field: what another protobuf writer might send.
        var ratchet = parsed.Ratchet;
        var reordered = new byte[] { 0x12 }
            .Concat(Varint(ratchet.CalculateSize() + 3))
            .Concat(new byte[] { 0x1A }).Concat(Varint(ratchet.Ciphertext.Length)).Concat(ratchet.Ciphertext)
            .Concat(new byte[] { 0x12, 40 }).Concat(ratchet.Header)
            .Concat(new byte[] { 0x08, 0x01 })
            .Concat(new byte[] { 0xF8, 0x01, 0x07 }) // field 31, varint 7
            .ToArray();
        Assert.Equal("first", System.Text.Encoding.UTF8.GetString(c.BobSession.Decrypt(reordered)));

        var second = CiphertextMessage.Parser.ParseFrom(c.AliceSends("second"));
        byte[] withOuterUnknown = [.. second.ToByteArray(), 0x18, 0x05];
        Assert.Equal("second", System.Text.Encoding.UTF8.GetString(c.BobSession.Decrypt(withOuterUnknown)));
    }

    [Fact]
    public void AnotherVersionIsRefusedAsBefore()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var parsed = CiphertextMessage.Parser.ParseFrom(c.AliceSends("v2"));
        parsed.Ratchet.Version = 2;
        var error = Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(parsed.ToByteArray()));
        Assert.Equal(ProtocolErrorKind.UnsupportedVersion, error.Kind);
    }

    [Fact]
    public void DamagedMessagesGiveTheSameOutcomeAsThroughParseMessage()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        c.AliceSends("skipped");
        var genuine = c.AliceSends("genuine");
        var bobState = c.BobSession.Serialize();
        var random = new Random(3);
        for (var i = 0; i < 1500; i++)
        {
            var damaged = (byte[])genuine.Clone();
            if (i % 4 == 0)
            {
                damaged = damaged[..random.Next(damaged.Length)];
            }
            else
            {
                damaged[random.Next(Math.Min(damaged.Length, i % 2 == 0 ? 50 : damaged.Length))] ^= (byte)(1 + random.Next(255));
            }

            using var direct = RatchetSession.Deserialize(bobState);
            using var generated = RatchetSession.Deserialize(bobState);
            var expected = Outcome(() => generated.Decrypt(RatchetSession.ParseMessage(damaged)));
            var actual = Outcome(() => direct.Decrypt(damaged));
            Assert.Equal(expected, actual);
            Assert.True(generated.Serialize().AsSpan().SequenceEqual(direct.Serialize()));
        }
    }

    private static string Outcome(Func<byte[]> decrypt)
    {
        try
        {
            return "plaintext " + Convert.ToHexString(decrypt());
        }
        catch (ParleyProtocolException e)
        {
            return $"{e.Kind}: {e.Message}";
        }
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        var v = (uint)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
        return [.. bytes];
    }
}
