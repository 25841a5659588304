using Parley.Protocol.Internal;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Session;

/// <summary>
/// The common message, a CiphertextMessage whose body is a RatchetMessage (protos/parley/v1/
/// protocol.proto), written and read directly because it is made and read for every message.
/// The bytes are exactly those of the generated code. Reading takes only the form the generated
/// code writes (one ratchet body holding version, header and ciphertext); anything else, including
/// every malformed or unsupported message, is left to the generated parser so that it is refused
/// exactly as before.
/// </summary>
internal static class RatchetMessageFormat
{
    private const int RatchetBodyField = 2;   // CiphertextMessage.ratchet
    private const int VersionField = 1;       // RatchetMessage.version
    private const int HeaderField = 2;        // RatchetMessage.header
    private const int CiphertextField = 3;    // RatchetMessage.ciphertext

    private const string What = "ciphertext message";

    /// <summary>RatchetEncrypt straight into the serialized CiphertextMessage.</summary>
    internal static byte[] Encrypt(RatchetState state, ReadOnlySpan<byte> associatedDataPrefix, ReadOnlySpan<byte> plaintext)
    {
        var ciphertextLength = plaintext.Length + Primitives.Aead.TagSize;
        var bodySize = ProtobufWriter.UInt32FieldSize(VersionField, ProtocolVersion.Current)
            + ProtobufWriter.BytesFieldSize(HeaderField, MessageHeader.Size)
            + ProtobufWriter.BytesFieldSize(CiphertextField, ciphertextLength);
        var bytes = new byte[ProtobufWriter.MessageFieldSize(RatchetBodyField, bodySize)];
        var writer = new ProtobufWriter(bytes);
        writer.WriteMessageHeader(RatchetBodyField, bodySize);
        writer.WriteUInt32Field(VersionField, ProtocolVersion.Current);
        writer.WriteMessageHeader(HeaderField, MessageHeader.Size);
        var header = writer.Take(MessageHeader.Size);
        writer.WriteMessageHeader(CiphertextField, ciphertextLength);
        var ciphertext = writer.Take(ciphertextLength);
        DoubleRatchet.Encrypt(state, associatedDataPrefix, plaintext, header, ciphertext);
        return bytes;
    }

    /// <summary>
    /// Finds the header and ciphertext of a current-version ratchet message in the form the
    /// generated code writes. False for anything else (the caller then uses the generated parser).
    /// </summary>
    internal static bool TryRead(ReadOnlySpan<byte> bytes, out ReadOnlySpan<byte> header, out ReadOnlySpan<byte> ciphertext)
    {
        header = default;
        ciphertext = default;
        try
        {
            var outer = new ProtobufReader(bytes, What);
            if (!outer.TryReadTag(out var tag) || tag != ((RatchetBodyField << 3) | (int)WireType.LengthDelimited))
            {
                return false;
            }

            var body = outer.ReadLengthDelimited();
            if (outer.TryReadTag(out _))
            {
                return false;
            }

            var reader = new ProtobufReader(body, What);
            uint version = 0;
            while (reader.TryReadTag(out tag))
            {
                switch (tag)
                {
                    case VersionField << 3: version = reader.ReadUInt32(); break;
                    case (HeaderField << 3) | (int)WireType.LengthDelimited: header = reader.ReadLengthDelimited(); break;
                    case (CiphertextField << 3) | (int)WireType.LengthDelimited: ciphertext = reader.ReadLengthDelimited(); break;
                    default: return false;
                }
            }

            return version == ProtocolVersion.Current;
        }
        catch (ParleyProtocolException)
        {
            return false;
        }
    }
}
