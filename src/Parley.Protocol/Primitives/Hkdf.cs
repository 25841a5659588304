using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>HKDF-SHA256 (RFC 5869).</summary>
internal static class Hkdf
{
    internal static void Sha256(ReadOnlySpan<byte> ikm, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, output, salt, info);
}
