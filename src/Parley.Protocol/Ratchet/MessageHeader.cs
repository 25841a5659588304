using System.Buffers.Binary;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.Ratchet;

/// <summary>
/// The Double Ratchet header (§3.1 HEADER(dh, pn, n)), encoded as exactly 40 bytes:
/// dh (32, X25519 public key) || pn (u32 big-endian) || n (u32 big-endian). These bytes are
/// sent as they are and form part of the AEAD associated data (docs/protocol.md §6.2).
/// </summary>
internal readonly ref struct MessageHeader
{
    internal const int Size = 40;

    internal MessageHeader(ReadOnlySpan<byte> ratchetKey, uint previousCounter, uint counter)
    {
        RatchetKey = ratchetKey;
        PreviousCounter = previousCounter;
        Counter = counter;
    }

    internal ReadOnlySpan<byte> RatchetKey { get; }

    internal uint PreviousCounter { get; }

    internal uint Counter { get; }

    internal static bool TryRead(ReadOnlySpan<byte> encoded, out MessageHeader header)
    {
        if (encoded.Length != Size)
        {
            header = default;
            return false;
        }

        header = new MessageHeader(
            encoded[..X25519.KeySize],
            BinaryPrimitives.ReadUInt32BigEndian(encoded[32..]),
            BinaryPrimitives.ReadUInt32BigEndian(encoded[36..]));
        return true;
    }

    internal void Write(Span<byte> destination)
    {
        RatchetKey.CopyTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], PreviousCounter);
        BinaryPrimitives.WriteUInt32BigEndian(destination[36..], Counter);
    }
}
