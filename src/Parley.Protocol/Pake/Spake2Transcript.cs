using System.Buffers.Binary;

namespace Parley.Protocol.Pake;

/// <summary>
/// The SPAKE2 transcript (RFC 9382 §3.3):
/// <c>TT = len(A) || A || len(B) || B || len(pA) || pA || len(pB) || pB || len(K) || K || len(w) || w</c>,
/// where len(S) is the length of S in bytes as an 8-byte little-endian number (§3.2), an absent
/// identity is the empty string, and w is big-endian, padded to the 32 bytes of p.
/// </summary>
internal static class Spake2Transcript
{
    private const int LengthSize = sizeof(ulong);

    internal static byte[] Build(
        ReadOnlySpan<byte> identityA,
        ReadOnlySpan<byte> identityB,
        ReadOnlySpan<byte> shareA,
        ReadOnlySpan<byte> shareB,
        ReadOnlySpan<byte> sharedElement,
        ReadOnlySpan<byte> w)
    {
        var transcript = new byte[(6 * LengthSize) + identityA.Length + identityB.Length + shareA.Length + shareB.Length + sharedElement.Length + w.Length];
        var rest = transcript.AsSpan();
        Append(ref rest, identityA);
        Append(ref rest, identityB);
        Append(ref rest, shareA);
        Append(ref rest, shareB);
        Append(ref rest, sharedElement);
        Append(ref rest, w);
        return transcript;
    }

    private static void Append(ref Span<byte> destination, ReadOnlySpan<byte> field)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, (ulong)field.Length);
        field.CopyTo(destination[LengthSize..]);
        destination = destination[(LengthSize + field.Length)..];
    }
}
