using System.Security.Cryptography;
using static Parley.Bench.Candidates.OpenSslCandidates;

namespace Parley.Bench.Candidates;

/// <summary>
/// X25519 through OpenSSL 3's EVP_PKEY interface, as a Parley backend would do it: raw keys in,
/// every EVP object made and freed per call, the own public key passed in when known (OpenSSL
/// otherwise recomputes it on import, a base-point multiplication), all-zero results refused.
/// Measured by the primitives command against libsodium; not adopted (docs/performance.md).
/// </summary>
internal static unsafe class OpenSslX25519
{
    private static ReadOnlySpan<byte> AlgorithmName => "X25519\0"u8;

    private static ReadOnlySpan<byte> PrivateKeyParameter => "priv\0"u8;

    private static ReadOnlySpan<byte> PublicKeyParameter => "pub\0"u8;

    /// <summary>The public key of <paramref name="privateKey"/> (computed by OpenSSL on import).</summary>
    internal static void PublicKeyFromPrivate(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        var key = Import(privateKey, default);
        try
        {
            nuint length = 32;
            fixed (byte* q = publicKey)
            {
                if (EVP_PKEY_get_raw_public_key(key, q, &length) != 1 || length != 32)
                {
                    throw new CryptographicException("EVP_PKEY_get_raw_public_key failed");
                }
            }
        }
        finally
        {
            EVP_PKEY_free(key);
        }
    }

    /// <summary>X25519(privateKey, peer); <paramref name="publicKey"/> may be empty. False for an all-zero result.</summary>
    internal static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        var own = Import(privateKey, publicKey);
        var peer = Import(default, peerPublicKey);
        var context = EVP_PKEY_CTX_new(own, 0);
        try
        {
            if (EVP_PKEY_derive_init(context) != 1 || EVP_PKEY_derive_set_peer_ex(context, peer, 0) != 1)
            {
                throw new CryptographicException("EVP_PKEY_derive_init failed");
            }

            nuint length = 32;
            fixed (byte* s = sharedSecret)
            {
                // OpenSSL refuses (returns 0) an all-zero result: RFC 7748 §6.1.
                if (EVP_PKEY_derive(context, s, &length) != 1)
                {
                    ERR_clear_error();
                    CryptographicOperations.ZeroMemory(sharedSecret);
                    return false;
                }
            }

            return true;
        }
        finally
        {
            EVP_PKEY_CTX_free(context);
            EVP_PKEY_free(peer);
            EVP_PKEY_free(own);
        }
    }

    private static nint Import(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        fixed (byte* name = AlgorithmName)
        fixed (byte* privateName = PrivateKeyParameter)
        fixed (byte* publicName = PublicKeyParameter)
        fixed (byte* n = privateKey)
        fixed (byte* p = publicKey)
        {
            var parameters = stackalloc OsslParam[3];
            var count = 0;
            if (!privateKey.IsEmpty)
            {
                parameters[count++] = OsslParam.Octets(privateName, n, privateKey.Length);
            }

            if (!publicKey.IsEmpty)
            {
                parameters[count++] = OsslParam.Octets(publicName, p, publicKey.Length);
            }

            parameters[count] = default;
            var context = EVP_PKEY_CTX_new_from_name(0, name, 0);
            try
            {
                nint key = 0;
                var selection = privateKey.IsEmpty ? EvpPkeyPublicKey : EvpPkeyKeypair;
                if (EVP_PKEY_fromdata_init(context) != 1 || EVP_PKEY_fromdata(context, &key, selection, parameters) != 1)
                {
                    throw new CryptographicException("EVP_PKEY_fromdata failed");
                }

                return key;
            }
            finally
            {
                EVP_PKEY_CTX_free(context);
            }
        }
    }
}
