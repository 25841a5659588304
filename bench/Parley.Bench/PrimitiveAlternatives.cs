using System.Globalization;
using System.Security.Cryptography;
using Parley.Bench.Candidates;
using Parley.Protocol.Primitives;
using static Parley.Bench.Candidates.OpenSslCandidates;

namespace Parley.Bench;

/// <summary>
/// The `primitives` command: every implementation of each primitive the hot path needs, measured
/// the way the hot path calls it (a fresh key on every call), one thread. docs/performance.md
/// records what this printed and which one Parley uses.
/// </summary>
internal static unsafe class PrimitiveAlternatives
{
    private static readonly byte[] Key32 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Salt32 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Info = "Parley_Ratchet_RootChain_v1"u8.ToArray();
    private static readonly byte[] One = [0x01];

    private const int Rounds = 5;

    internal static void Run(double seconds, string? filter)
    {
        var warmup = Math.Min(0.5, seconds / 4);
        void Bench(string name, Action<long> op)
        {
            if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            // Best of five rounds: on a shared machine the best round is the closest to the cost.
            TimedLoop.Run(warmup, op);
            var rounds = Enumerable.Range(0, Rounds).Select(_ => TimedLoop.Run(seconds / Rounds, op)).Order().ToArray();
            var best = rounds[^1];
            var median = rounds[Rounds / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-72} {best,12:N0} ops/s {1e6 / best,9:F3} us/op (median {1e6 / median:F3})"));
        }

        Console.WriteLine($"# {Environment.Version}, {Environment.ProcessorCount} cores, X25519 backend in use: {X25519.Implementation}");
        Hmacs(Bench);
        Hkdfs(Bench);
        X25519s(Bench);
        Aeads(Bench);
        Others(Bench);
    }

    private static void Hmacs(Action<string, Action<long>> bench)
    {
        var output = new byte[32];
        var key = Key32;
        bench("HMAC-SHA256 32B key, 1B: libsodium crypto_auth_hmacsha256", iteration => Hmac.SodiumSha256(key, One, output));
        bench("HMAC-SHA256 32B key, 1B: Parley Hmac.Sha256 (in use)", iteration => Hmac.Sha256(key, One, output));
        bench("HMAC-SHA256 32B key, 1B: BCL HMACSHA256.HashData", iteration => HMACSHA256.HashData(key, One, output));
        bench("HMAC-SHA256 32B key, 1B: NSec Key.Import + Mac", iteration =>
        {
            using var k = NSec.Cryptography.Key.Import(NSec.Cryptography.MacAlgorithm.HmacSha256, key, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
            NSec.Cryptography.MacAlgorithm.HmacSha256.Mac(k, One, output);
        });

        var md = EVP_sha256();
        bench("HMAC-SHA256 32B key, 1B: OpenSSL HMAC() one-shot", iteration =>
        {
            fixed (byte* k = key)
            fixed (byte* d = One)
            fixed (byte* o = output)
            {
                uint length;
                _ = HMAC(md, k, 32, d, 1, o, &length);
            }
        });

        var hmacContext = HMAC_CTX_new();
        fixed (byte* k = key)
        {
            _ = HMAC_Init_ex(hmacContext, k, 32, md, 0);
        }

        bench("HMAC-SHA256 32B key, 1B: OpenSSL HMAC_CTX reused, re-keyed", iteration =>
        {
            fixed (byte* k = key)
            fixed (byte* d = One)
            fixed (byte* o = output)
            {
                uint length;
                _ = HMAC_Init_ex(hmacContext, k, 32, 0, 0);
                _ = HMAC_Update(hmacContext, d, 1);
                _ = HMAC_Final(hmacContext, o, &length);
            }
        });

        var mac = EVP_MAC_fetch(0, "HMAC", 0);
        var macContext = EVP_MAC_CTX_new(mac);
        var digestName = "SHA256\0"u8.ToArray();
        var digestKey = "digest\0"u8.ToArray();
        fixed (byte* dn = digestName)
        fixed (byte* dk = digestKey)
        {
            var parameters = stackalloc OsslParam[2];
            parameters[0] = OsslParam.Utf8(dk, dn, 6);
            parameters[1] = default;
            _ = EVP_MAC_CTX_set_params(macContext, parameters);
        }

        bench("HMAC-SHA256 32B key, 1B: OpenSSL EVP_MAC_CTX reused, re-keyed", iteration =>
        {
            fixed (byte* k = key)
            fixed (byte* d = One)
            fixed (byte* o = output)
            {
                nuint length;
                _ = EVP_MAC_init(macContext, k, 32, null);
                _ = EVP_MAC_update(macContext, d, 1);
                _ = EVP_MAC_final(macContext, o, &length, 32);
            }
        });

        bench("HMAC-SHA256 32B key, 1B: RFC 2104 over OpenSSL SHA256_* (SHA-NI)", iteration => HmacOverOpenSslSha256(key, One, output));

        var mk = new byte[32];
        var ck = new byte[32];
        bench("KDF_CK step (2 HMACs): libsodium one-shot x2", iteration =>
        {
            Hmac.SodiumSha256(key, One, mk);
            Hmac.SodiumSha256(key, [0x02], ck);
        });
        bench("KDF_CK step (2 HMACs): Parley Hmac.Sha256 x2", iteration =>
        {
            Hmac.Sha256(key, One, mk);
            Hmac.Sha256(key, [0x02], ck);
        });
        bench("KDF_CK step (2 HMACs): Parley Hmac.Sha256Twice, key absorbed once (in use)", iteration => Hmac.Sha256Twice(key, One, mk, [0x02], ck));
        bench("KDF_CK step (2 HMACs): libsodium, keyed state shared", iteration =>
        {
            var state = stackalloc byte[SodiumCandidates.HmacStateSize];
            var copy = stackalloc byte[SodiumCandidates.HmacStateSize];
            byte two = 2;
            fixed (byte* k = key)
            fixed (byte* d = One)
            fixed (byte* m = mk)
            fixed (byte* c = ck)
            {
                _ = SodiumCandidates.crypto_auth_hmacsha256_init(state, k, 32);
                new Span<byte>(state, SodiumCandidates.HmacStateSize).CopyTo(new Span<byte>(copy, SodiumCandidates.HmacStateSize));
                _ = SodiumCandidates.crypto_auth_hmacsha256_update(state, d, 1);
                _ = SodiumCandidates.crypto_auth_hmacsha256_final(state, m);
                _ = SodiumCandidates.crypto_auth_hmacsha256_update(copy, &two, 1);
                _ = SodiumCandidates.crypto_auth_hmacsha256_final(copy, c);
            }
        });
    }

    /// <summary>HMAC (RFC 2104) for a 32-byte key, over OpenSSL's low-level SHA-256.</summary>
    private static void HmacOverOpenSslSha256(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        var context = stackalloc byte[128];
        var pad = stackalloc byte[64];
        var inner = stackalloc byte[32];
        for (var i = 0; i < 64; i++)
        {
            pad[i] = (byte)((i < key.Length ? key[i] : 0) ^ 0x36);
        }

        fixed (byte* d = data)
        fixed (byte* o = output)
        {
            _ = SHA256_Init(context);
            _ = SHA256_Update(context, pad, 64);
            _ = SHA256_Update(context, d, (nuint)data.Length);
            _ = SHA256_Final(inner, context);
            for (var i = 0; i < 64; i++)
            {
                pad[i] ^= 0x36 ^ 0x5c;
            }

            _ = SHA256_Init(context);
            _ = SHA256_Update(context, pad, 64);
            _ = SHA256_Update(context, inner, 32);
            _ = SHA256_Final(o, context);
        }
    }

    private static void Hkdfs(Action<string, Action<long>> bench)
    {
        var output = new byte[64];
        bench("HKDF-SHA256 ikm 32, salt 32, L=64: BCL HKDF.DeriveKey", iteration => HKDF.DeriveKey(HashAlgorithmName.SHA256, Key32, output, Salt32, Info));
        bench("HKDF-SHA256 ikm 32, salt 32, L=64: Parley Hkdf.Sha256 (in use)", iteration => Hkdf.Sha256(Key32, Salt32, Info, output));
        bench("HKDF-SHA256 ikm 32, salt 32, L=64: libsodium extract+expand", iteration =>
        {
            var prk = stackalloc byte[32];
            fixed (byte* s = Salt32)
            fixed (byte* k = Key32)
            fixed (byte* i = Info)
            fixed (byte* o = output)
            {
                _ = SodiumCandidates.crypto_kdf_hkdf_sha256_extract(prk, s, 32, k, 32);
                _ = SodiumCandidates.crypto_kdf_hkdf_sha256_expand(o, 64, i, (nuint)Info.Length, prk);
            }
        });

        var kdf = EVP_KDF_fetch(0, "HKDF", 0);
        var context = EVP_KDF_CTX_new(kdf);
        var names = new[] { "digest\0"u8.ToArray(), "SHA256\0"u8.ToArray(), "key\0"u8.ToArray(), "salt\0"u8.ToArray(), "info\0"u8.ToArray() };
        bench("HKDF-SHA256 ikm 32, salt 32, L=64: OpenSSL EVP_KDF_CTX reused", iteration =>
        {
            fixed (byte* dk = names[0])
            fixed (byte* dn = names[1])
            fixed (byte* kk = names[2])
            fixed (byte* sk = names[3])
            fixed (byte* ik = names[4])
            fixed (byte* k = Key32)
            fixed (byte* s = Salt32)
            fixed (byte* i = Info)
            fixed (byte* o = output)
            {
                var parameters = stackalloc OsslParam[5];
                parameters[0] = OsslParam.Utf8(dk, dn, 6);
                parameters[1] = OsslParam.Octets(kk, k, 32);
                parameters[2] = OsslParam.Octets(sk, s, 32);
                parameters[3] = OsslParam.Octets(ik, i, Info.Length);
                parameters[4] = default;
                _ = EVP_KDF_derive(context, o, 64, parameters);
            }
        });
    }

    private static void X25519s(Action<string, Action<long>> bench)
    {
        var a = new byte[32];
        var aPublic = new byte[32];
        var b = new byte[32];
        var bPublic = new byte[32];
        var shared = new byte[32];
        X25519.GenerateKeyPair(a, aPublic);
        X25519.GenerateKeyPair(b, bPublic);

        bench("X25519 agreement: libsodium crypto_scalarmult_curve25519", iteration =>
        {
            fixed (byte* q = shared)
            fixed (byte* n = a)
            fixed (byte* p = bPublic)
            {
                _ = SodiumCandidates.crypto_scalarmult_curve25519(q, n, p);
            }
        });
        bench("X25519 keygen: libsodium random + crypto_scalarmult_curve25519_base", iteration =>
        {
            RandomNumberGenerator.Fill(a);
            fixed (byte* q = aPublic)
            fixed (byte* n = a)
            {
                _ = SodiumCandidates.crypto_scalarmult_curve25519_base(q, n);
            }
        });
        X25519.GenerateKeyPair(a, aPublic);

        var nsec = NSec.Cryptography.KeyAgreementAlgorithm.X25519;
        using (var nsecKey = NSec.Cryptography.Key.Import(nsec, a, NSec.Cryptography.KeyBlobFormat.RawPrivateKey))
        {
            var peer = NSec.Cryptography.PublicKey.Import(nsec, bPublic, NSec.Cryptography.KeyBlobFormat.RawPublicKey);
            bench("X25519 agreement: NSec Agree (keys imported once)", iteration =>
            {
                using var s = nsec.Agree(nsecKey, peer);
            });
        }

        bench("X25519 agreement: OpenSSL EVP, raw keys imported per call", iteration => OpenSslAgreeRaw(a, bPublic, shared));
        bench("X25519 agreement: OpenSSL EVP_PKEY_fromdata (priv+pub) per call", iteration => OpenSslAgreeFromData(a, aPublic, bPublic, shared));
        bench("X25519 keygen: OpenSSL random + raw import + get public", iteration =>
        {
            RandomNumberGenerator.Fill(a);
            fixed (byte* n = a)
            fixed (byte* q = aPublic)
            {
                var key = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, n, 32);
                nuint length = 32;
                _ = EVP_PKEY_get_raw_public_key(key, q, &length);
                EVP_PKEY_free(key);
            }
        });
        X25519.GenerateKeyPair(a, aPublic);

        nint own;
        nint other;
        fixed (byte* n = a)
        fixed (byte* p = bPublic)
        {
            own = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, n, 32);
            other = EVP_PKEY_new_raw_public_key(EvpPkeyX25519, 0, p, 32);
        }

        bench("X25519 agreement: OpenSSL EVP_PKEY_derive only (keys made once)", iteration =>
        {
            var context = EVP_PKEY_CTX_new(own, 0);
            _ = EVP_PKEY_derive_init(context);
            _ = EVP_PKEY_derive_set_peer(context, other);
            nuint length = 32;
            fixed (byte* s = shared)
            {
                _ = EVP_PKEY_derive(context, s, &length);
            }

            EVP_PKEY_CTX_free(context);
        });
        EVP_PKEY_free(own);
        EVP_PKEY_free(other);

        bench("X25519 agreement: Parley OpenSslX25519, own public key given", iteration => OpenSslX25519.TryAgree(a, aPublic, bPublic, shared));
        bench("X25519 agreement: Parley OpenSslX25519, own public key recomputed", iteration => OpenSslX25519.TryAgree(a, default, bPublic, shared));
        bench("X25519 keygen: Parley OpenSslX25519.PublicKeyFromPrivate + random", iteration =>
        {
            RandomSource.Fill(a);
            OpenSslX25519.PublicKeyFromPrivate(a, aPublic);
        });
        X25519.GenerateKeyPair(a, aPublic);
        bench("X25519 agreement: Parley SodiumX25519", iteration => SodiumX25519.TryAgree(a, bPublic, shared));
        bench("X25519 keygen: Parley SodiumX25519.PublicKeyFromPrivate + random", iteration =>
        {
            RandomSource.Fill(a);
            SodiumX25519.PublicKeyFromPrivate(a, aPublic);
        });
        X25519.GenerateKeyPair(a, aPublic);
        X25519.GenerateKeyPair(a, aPublic);

        bench("X25519 agreement: BouncyCastle (managed) ScalarMult", iteration => Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(a, 0, bPublic, 0, shared, 0));
        bench("X25519 keygen: BouncyCastle (managed) ScalarMultBase", iteration =>
        {
            RandomNumberGenerator.Fill(a);
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(a, 0, aPublic, 0);
        });
    }

    private static void OpenSslAgreeRaw(byte[] privateKey, byte[] peerPublic, byte[] shared)
    {
        fixed (byte* n = privateKey)
        fixed (byte* p = peerPublic)
        fixed (byte* s = shared)
        {
            var own = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, n, 32);
            var peer = EVP_PKEY_new_raw_public_key(EvpPkeyX25519, 0, p, 32);
            var context = EVP_PKEY_CTX_new(own, 0);
            _ = EVP_PKEY_derive_init(context);
            _ = EVP_PKEY_derive_set_peer(context, peer);
            nuint length = 32;
            _ = EVP_PKEY_derive(context, s, &length);
            EVP_PKEY_CTX_free(context);
            EVP_PKEY_free(peer);
            EVP_PKEY_free(own);
        }
    }

    [ThreadStatic]
    private static nint fromDataContext;

    private static readonly byte[] PrivName = "priv\0"u8.ToArray();
    private static readonly byte[] PubName = "pub\0"u8.ToArray();

    private static void OpenSslAgreeFromData(byte[] privateKey, byte[] publicKey, byte[] peerPublic, byte[] shared)
    {
        if (fromDataContext == 0)
        {
            fromDataContext = EVP_PKEY_CTX_new_from_name(0, "X25519", 0);
            _ = EVP_PKEY_fromdata_init(fromDataContext);
        }

        fixed (byte* n = privateKey)
        fixed (byte* q = publicKey)
        fixed (byte* p = peerPublic)
        fixed (byte* s = shared)
        fixed (byte* privName = PrivName)
        fixed (byte* pubName = PubName)
        {
            var parameters = stackalloc OsslParam[3];
            parameters[0] = OsslParam.Octets(privName, n, 32);
            parameters[1] = OsslParam.Octets(pubName, q, 32);
            parameters[2] = default;
            nint own;
            if (EVP_PKEY_fromdata(fromDataContext, &own, EvpPkeyKeypair, parameters) != 1)
            {
                throw new CryptographicException("fromdata failed");
            }

            var peer = EVP_PKEY_new_raw_public_key(EvpPkeyX25519, 0, p, 32);
            var context = EVP_PKEY_CTX_new(own, 0);
            _ = EVP_PKEY_derive_init(context);
            _ = EVP_PKEY_derive_set_peer(context, peer);
            nuint length = 32;
            _ = EVP_PKEY_derive(context, s, &length);
            EVP_PKEY_CTX_free(context);
            EVP_PKEY_free(peer);
            EVP_PKEY_free(own);
        }
    }

    private static void Aeads(Action<string, Action<long>> bench)
    {
        var plaintext = RandomNumberGenerator.GetBytes(256);
        var ad = RandomNumberGenerator.GetBytes(169);
        var ciphertext = new byte[256 + 16];
        var opened = new byte[256];
        var nonce = new byte[12];
        bench("AES-256-GCM seal+open 256B, new key: Parley Aead (libsodium, in use)", iteration =>
        {
            Aead.Encrypt(Key32, nonce, plaintext, ad, ciphertext);
            _ = Aead.TryDecrypt(Key32, nonce, ciphertext, ad, opened);
        });
        bench("AES-256-GCM seal+open 256B, new key: BCL AesGcm per message", iteration =>
        {
            using (var gcm = new AesGcm(Key32, 16))
            {
                gcm.Encrypt(nonce, plaintext, ciphertext.AsSpan(0, 256), ciphertext.AsSpan(256), ad);
            }

            using (var gcm = new AesGcm(Key32, 16))
            {
                gcm.Decrypt(nonce, ciphertext.AsSpan(0, 256), ciphertext.AsSpan(256), opened, ad);
            }
        });
    }

    private static void Others(Action<string, Action<long>> bench)
    {
        using var signer = Ed25519.Generate();
        var publicKey = Ed25519.PublicKeyOf(signer);
        var message = RandomNumberGenerator.GetBytes(50);
        var signature = new byte[64];
        Ed25519.Sign(signer, message, signature);
        bench("Ed25519 sign 50B: NSec (in use)", iteration => Ed25519.Sign(signer, message, signature));
        bench("Ed25519 verify 50B: NSec, public key imported per call (in use)", iteration => Ed25519.Verify(publicKey, message, signature));
        bench("Ed25519 verify 50B: BouncyCastle (managed)", iteration => Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature, 0, publicKey, 0, message, 0, message.Length));

        var (kemPublic, kemSecret) = MlKem768.GenerateKeyPair();
        var kemCiphertext = new byte[MlKem768.CiphertextSize];
        var secret = new byte[32];
        bench("ML-KEM-768 keygen: BouncyCastle (in use)", iteration => MlKem768.GenerateKeyPair());
        bench("ML-KEM-768 encapsulate incl. key decoding: BouncyCastle (in use)", iteration => MlKem768.TryEncapsulate(kemPublic, kemCiphertext, secret));
        bench("ML-KEM-768 decapsulate incl. key decoding: BouncyCastle (in use)", iteration => MlKem768.TryDecapsulate(kemSecret, kemCiphertext, secret));
#pragma warning disable SYSLIB5006 // ML-KEM in the BCL is marked experimental
        Console.WriteLine($"# System.Security.Cryptography.MLKem.IsSupported = {MLKem.IsSupported} (needs OpenSSL 3.5)");
#pragma warning restore SYSLIB5006
    }
}
