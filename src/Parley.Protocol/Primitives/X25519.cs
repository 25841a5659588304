using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// X25519 (RFC 7748) on raw 32-byte keys, through libsodium called directly (no NSec key handles).
/// OpenSSL 3's X25519 was measured as an alternative and is no faster here (docs/performance.md).
/// </summary>
internal static class X25519
{
    internal const int KeySize = 32;

    static X25519() => Sodium.EnsureInitialized();

    internal static string Implementation => "libsodium crypto_scalarmult_curve25519";

    /// <summary>Fills <paramref name="privateKey"/> with a fresh random scalar and writes its public key.</summary>
    internal static void GenerateKeyPair(Span<byte> privateKey, Span<byte> publicKey)
    {
        RandomSource.Fill(privateKey[..KeySize]);
        PublicKeyFromPrivate(privateKey, publicKey);
    }

    internal static unsafe void PublicKeyFromPrivate(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        if (privateKey.Length != KeySize || publicKey.Length != KeySize)
        {
            throw new ArgumentException("X25519 keys are 32 bytes");
        }

        fixed (byte* q = publicKey)
        fixed (byte* n = privateKey)
        {
            if (Sodium.crypto_scalarmult_curve25519_base(q, n) != 0)
            {
                throw new CryptographicException("X25519 base point multiplication failed");
            }
        }
    }

    /// <summary>
    /// As <see cref="TryAgree(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> for a caller
    /// that also holds <paramref name="publicKey"/>, the public key of <paramref name="privateKey"/>
    /// (an EVP_PKEY backend would need it to avoid recomputing it; libsodium does not, so it is only
    /// length-checked). The result depends on the private key only.
    /// </summary>
    internal static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret) =>
        (publicKey.IsEmpty || publicKey.Length == KeySize) && TryAgree(privateKey, peerPublicKey, sharedSecret);

    /// <summary>
    /// Computes the shared secret. Returns false when the peer key is a low-order point, which
    /// yields the all-zero secret (RFC 7748 §6.1 says to check for it).
    /// </summary>
    internal static unsafe bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        if (privateKey.Length != KeySize || peerPublicKey.Length != KeySize || sharedSecret.Length != KeySize)
        {
            return false;
        }

        fixed (byte* q = sharedSecret)
        fixed (byte* n = privateKey)
        fixed (byte* p = peerPublicKey)
        {
            // libsodium returns -1 for an all-zero result.
            return Sodium.crypto_scalarmult_curve25519(q, n, p) == 0;
        }
    }
}
