using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// HKDF-SHA256 (RFC 5869, tested with its Appendix A vectors). Extract and Expand are computed
/// with <see cref="HmacSha256State"/> (OpenSSL's SHA-256, PRK keyed once for every block) when
/// libcrypto.so.3 is present; otherwise by System.Security.Cryptography.HKDF.
/// </summary>
internal static class Hkdf
{
    private const int HashSize = HmacSha256State.OutputSize;

    private static readonly bool UseOpenSsl = HmacSha256State.IsAvailable;

    internal static string Implementation => UseOpenSsl ? "RFC 5869 over OpenSSL SHA-256 (libcrypto.so.3)" : "System.Security.Cryptography.HKDF";

    internal static void Sha256(ReadOnlySpan<byte> ikm, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output)
    {
        if (!UseOpenSsl)
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, output, salt, info);
            return;
        }

        if (output.Length > 255 * HashSize)
        {
            throw new ArgumentException("HKDF-SHA256 derives at most 8160 bytes", nameof(output));
        }

        Span<byte> block = stackalloc byte[HashSize];
        var state = default(HmacSha256State);
        try
        {
            // Extract (§2.2): PRK = HMAC(salt, IKM); an absent salt is HashLen zero bytes, which
            // HMAC pads to the same block as an empty key.
            state.SetKey(salt);
            state.Compute(ikm, block);

            // Expand (§2.3): T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty.
            state.SetKey(block);
            scoped ReadOnlySpan<byte> previous = default;
            Span<byte> counter = stackalloc byte[1];
            for (var offset = 0; offset < output.Length; offset += HashSize)
            {
                counter[0]++;
                state.Compute(previous, info, counter, block);
                var take = Math.Min(HashSize, output.Length - offset);
                block[..take].CopyTo(output[offset..]);
                previous = block;
            }
        }
        finally
        {
            state.Clear();
            CryptographicOperations.ZeroMemory(block);
        }
    }
}
