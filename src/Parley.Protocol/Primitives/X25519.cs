namespace Parley.Protocol.Primitives;

/// <summary>
/// X25519 (RFC 7748) on raw 32-byte keys. Two backends compute the same function: OpenSSL 3
/// (libcrypto.so.3), about twice as fast here, when it loads and passes its known-answer check;
/// libsodium otherwise. Both reject an all-zero shared secret.
/// </summary>
internal static class X25519
{
    internal const int KeySize = 32;

    /// <summary>Which backend computes X25519 in this process. Tests and the benchmark may switch it.</summary>
    internal static X25519Backend Backend { get; set; } = OpenSslX25519.IsAvailable ? X25519Backend.OpenSsl : X25519Backend.Sodium;

    internal static string Implementation => Backend == X25519Backend.OpenSsl ? "OpenSSL 3 EVP_PKEY (libcrypto.so.3)" : "libsodium";

    /// <summary>Fills <paramref name="privateKey"/> with a fresh random scalar and writes its public key.</summary>
    internal static void GenerateKeyPair(Span<byte> privateKey, Span<byte> publicKey)
    {
        RandomSource.Fill(privateKey[..KeySize]);
        PublicKeyFromPrivate(privateKey, publicKey);
    }

    internal static void PublicKeyFromPrivate(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        if (privateKey.Length != KeySize || publicKey.Length != KeySize)
        {
            throw new ArgumentException("X25519 keys are 32 bytes");
        }

        if (Backend == X25519Backend.OpenSsl)
        {
            OpenSslX25519.PublicKeyFromPrivate(privateKey, publicKey);
        }
        else
        {
            SodiumX25519.PublicKeyFromPrivate(privateKey, publicKey);
        }
    }

    /// <summary>
    /// Computes the shared secret. Returns false when the peer key is a low-order point, which
    /// yields the all-zero secret (RFC 7748 §6.1 says to check for it); the output is then zeroed.
    /// </summary>
    internal static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret) =>
        TryAgree(privateKey, default, peerPublicKey, sharedSecret);

    /// <summary>
    /// As <see cref="TryAgree(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>, given also
    /// <paramref name="publicKey"/>, the public key of <paramref name="privateKey"/>, which spares
    /// the OpenSSL backend from recomputing it. The result depends on the private key only.
    /// </summary>
    internal static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        if (privateKey.Length != KeySize || peerPublicKey.Length != KeySize || sharedSecret.Length != KeySize
            || !(publicKey.IsEmpty || publicKey.Length == KeySize))
        {
            return false;
        }

        return Backend == X25519Backend.OpenSsl
            ? OpenSslX25519.TryAgree(privateKey, publicKey, peerPublicKey, sharedSecret)
            : SodiumX25519.TryAgree(privateKey, peerPublicKey, sharedSecret);
    }
}
