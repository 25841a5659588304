using System.Security.Cryptography;
using static Parley.Protocol.Primitives.LibCrypto;

namespace Parley.Protocol.Primitives;

/// <summary>
/// X25519 (RFC 7748) through OpenSSL 3's EVP_PKEY interface: OpenSSL's x86-64 field arithmetic
/// (MULX/ADX) computes an agreement in about half of libsodium's time on this hardware
/// (docs/performance.md). Keys go in and out as raw bytes; every EVP object lives for one call.
/// </summary>
internal static unsafe class OpenSslX25519
{
    private static ReadOnlySpan<byte> AlgorithmName => "X25519\0"u8;

    private static ReadOnlySpan<byte> PrivateKeyParameter => "priv\0"u8;

    private static ReadOnlySpan<byte> PublicKeyParameter => "pub\0"u8;

    /// <summary>
    /// True when libcrypto.so.3 loaded and computes the RFC 7748 §6.1 example correctly; checked
    /// once, so that a broken or unusual OpenSSL is never used.
    /// </summary>
    internal static bool IsAvailable { get; } = LibCrypto.IsLoaded && SelfTest();

    /// <summary>Writes the public key of <paramref name="privateKey"/> (OpenSSL computes it when the key is imported).</summary>
    internal static void PublicKeyFromPrivate(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        RequireLibrary();
        var key = Import(privateKey, default);
        try
        {
            nuint length = X25519.KeySize;
            fixed (byte* q = publicKey)
            {
                if (EVP_PKEY_get_raw_public_key(key, q, &length) != 1 || length != X25519.KeySize)
                {
                    throw Failed("reading the public key");
                }
            }
        }
        finally
        {
            EVP_PKEY_free(key);
        }
    }

    /// <summary>
    /// Computes X25519(privateKey, peerPublicKey). <paramref name="publicKey"/>, when given, must be
    /// the public key of <paramref name="privateKey"/>: OpenSSL then skips recomputing it on import
    /// (a base-point multiplication as costly as the agreement). The derivation itself uses the
    /// private key only. False for an all-zero shared secret; the output is then all zero.
    /// </summary>
    internal static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        RequireLibrary();
        nint own = 0;
        nint peer = 0;
        nint context = 0;
        try
        {
            own = Import(privateKey, publicKey);
            peer = Import(default, peerPublicKey);
            context = EVP_PKEY_CTX_new(own, 0);
            if (context == 0 || EVP_PKEY_derive_init(context) != 1 || EVP_PKEY_derive_set_peer_ex(context, peer, 0) != 1)
            {
                throw Failed("setting up the agreement");
            }

            nuint length = X25519.KeySize;
            int derived;
            fixed (byte* s = sharedSecret)
            {
                // OpenSSL refuses (returns 0) when the result is all zero: RFC 7748 §6.1.
                derived = EVP_PKEY_derive(context, s, &length);
            }

            if (derived != 1 || length != X25519.KeySize || IsAllZero(sharedSecret))
            {
                ERR_clear_error();
                CryptographicOperations.ZeroMemory(sharedSecret);
                return false;
            }

            return true;
        }
        finally
        {
            // EVP_PKEY_free clears the private key (OPENSSL_secure_clear_free).
            if (context != 0)
            {
                EVP_PKEY_CTX_free(context);
            }

            if (peer != 0)
            {
                EVP_PKEY_free(peer);
            }

            if (own != 0)
            {
                EVP_PKEY_free(own);
            }
        }
    }

    /// <summary>An EVP_PKEY from a private key (with or without its public key), or from a public key alone.</summary>
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
            if (context == 0)
            {
                throw Failed("creating a key context");
            }

            try
            {
                nint key = 0;
                var selection = privateKey.IsEmpty ? SelectPublicKey : SelectKeyPair;
                if (EVP_PKEY_fromdata_init(context) != 1 || EVP_PKEY_fromdata(context, &key, selection, parameters) != 1 || key == 0)
                {
                    throw Failed("importing a key");
                }

                return key;
            }
            finally
            {
                EVP_PKEY_CTX_free(context);
            }
        }
    }

    private static void RequireLibrary()
    {
        if (!LibCrypto.IsLoaded)
        {
            throw new PlatformNotSupportedException("OpenSSL 3 (libcrypto.so.3) is not available");
        }
    }

    private static bool IsAllZero(ReadOnlySpan<byte> value)
    {
        var accumulated = 0;
        foreach (var b in value)
        {
            accumulated |= b;
        }

        return accumulated == 0;
    }

    private static CryptographicException Failed(string step)
    {
        ERR_clear_error();
        return new CryptographicException($"OpenSSL X25519 failed {step}");
    }

    /// <summary>RFC 7748 §6.1: both public keys from the private keys, and the shared secret both ways.</summary>
    private static bool SelfTest()
    {
        try
        {
            ReadOnlySpan<byte> alicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
            ReadOnlySpan<byte> alicePublic = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
            ReadOnlySpan<byte> bobPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
            ReadOnlySpan<byte> bobPublic = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
            ReadOnlySpan<byte> expected = Convert.FromHexString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
            Span<byte> output = stackalloc byte[X25519.KeySize];
            PublicKeyFromPrivate(alicePrivate, output);
            if (!output.SequenceEqual(alicePublic))
            {
                return false;
            }

            if (!TryAgree(alicePrivate, alicePublic, bobPublic, output) || !output.SequenceEqual(expected))
            {
                return false;
            }

            return TryAgree(bobPrivate, default, alicePublic, output) && output.SequenceEqual(expected);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
