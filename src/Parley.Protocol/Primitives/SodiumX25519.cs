using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>X25519 (RFC 7748) through libsodium: the portable backend, used where OpenSSL 3 is absent.</summary>
internal static class SodiumX25519
{
    static SodiumX25519() => Sodium.EnsureInitialized();

    internal static unsafe void PublicKeyFromPrivate(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        fixed (byte* q = publicKey)
        fixed (byte* n = privateKey)
        {
            if (Sodium.crypto_scalarmult_curve25519_base(q, n) != 0)
            {
                throw new CryptographicException("X25519 base point multiplication failed");
            }
        }
    }

    /// <summary>False for an all-zero shared secret (a low-order peer key); the output is then all zero.</summary>
    internal static unsafe bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        fixed (byte* q = sharedSecret)
        fixed (byte* n = privateKey)
        fixed (byte* p = peerPublicKey)
        {
            // libsodium returns -1 for an all-zero result (and for its small-order blocklist, which
            // gives exactly the all-zero results), leaving the zero result in q.
            if (Sodium.crypto_scalarmult_curve25519(q, n, p) != 0)
            {
                CryptographicOperations.ZeroMemory(sharedSecret);
                return false;
            }

            return true;
        }
    }
}
