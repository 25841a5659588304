using System.Globalization;
using System.Security.Cryptography;
using Parley.Bench.Candidates;
using Parley.Protocol.Primitives;
using static Parley.Bench.Candidates.OpenSslCandidates;

namespace Parley.Bench;

/// <summary>
/// The `primitives` command: each implementation available for a primitive on the hot path,
/// called the way the hot path calls it (a fresh key on every call), one thread. The candidates of
/// a group run in interleaved rounds and each is first checked to compute the same bytes.
/// docs/performance.md records what this printed and which one Parley uses.
/// </summary>
internal static unsafe class PrimitiveAlternatives
{
    private const int Rounds = 7;

    private static readonly byte[] Key32 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Salt32 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Info = "Parley_Ratchet_RootChain_v1"u8.ToArray();
    private static readonly byte[] One = [0x01];
    private static readonly byte[] Two = [0x02];

    internal static void Run(double seconds, string? filter)
    {
        Console.WriteLine($"# .NET {Environment.Version}, {Environment.ProcessorCount} cores; {Rounds} interleaved rounds; " +
            "cpu = this thread's CPU time per call (median round), wall = best round");
        Console.WriteLine($"# in use: HMAC {Hmac.Implementation}; HKDF {Hkdf.Implementation}; X25519 {X25519.Implementation}; AEAD {Aead.Implementation}; Ed25519 {Ed25519.Implementation}; ML-KEM-768 {MlKem768.Implementation}");
        foreach (var group in new[] { Hmacs(), ChainSteps(), Hkdfs(), Agreements(), KeyGenerations(), Aeads(), Signatures(), Kems() })
        {
            var selected = group.Candidates.Where(c => filter is null || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase) || group.Title.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
            if (selected.Count > 0)
            {
                Measure(group.Title, selected, seconds);
            }
        }

#pragma warning disable SYSLIB5006 // ML-KEM in the BCL is marked experimental
        Console.WriteLine($"# System.Security.Cryptography.MLKem.IsSupported = {MLKem.IsSupported} (it needs OpenSSL 3.5; this is {OpenSslVersion()})");
#pragma warning restore SYSLIB5006
    }

    private static void Measure(string title, List<Candidate> candidates, double seconds)
    {
        Console.WriteLine();
        Console.WriteLine($"## {title}");
        var perRound = seconds / Rounds;
        var cpu = candidates.Select(_ => new List<double>()).ToList();
        var wall = candidates.Select(_ => new List<double>()).ToList();
        foreach (var candidate in candidates)
        {
            TimedLoop.Run(Math.Min(0.3, perRound), candidate.Operation);
        }

        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                var count = 0L;
                var operation = candidates[i].Operation;
                var cpuStart = ThreadClock.Now();
                var perSecond = TimedLoop.Run(perRound, n =>
                {
                    operation(n);
                    count++;
                });
                cpu[i].Add((ThreadClock.Now() - cpuStart) / count * 1e6);
                wall[i].Add(1e6 / perSecond);
            }
        }

        for (var i = 0; i < candidates.Count; i++)
        {
            cpu[i].Sort();
            wall[i].Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{candidates[i].Name,-66} cpu {cpu[i][Rounds / 2],9:F3} us  wall {wall[i][0],9:F3} us{(candidates[i].InUse ? "  <- Parley" : "")}"));
        }
    }

    private static Group Hmacs()
    {
        var output = new byte[32];
        var expected = HMACSHA256.HashData(Key32, One);
        var md = EVP_sha256();
        var hmacContext = HMAC_CTX_new();
        fixed (byte* k = Key32)
        {
            _ = HMAC_Init_ex(hmacContext, k, 32, md, 0);
        }

        var macContext = EVP_MAC_CTX_new(EVP_MAC_fetch(0, "HMAC", 0));
        fixed (byte* digestKey = "digest\0"u8)
        fixed (byte* digestName = "SHA256\0"u8)
        {
            var parameters = stackalloc OsslParam[2];
            parameters[0] = OsslParam.Utf8(digestKey, digestName, 6);
            parameters[1] = default;
            _ = EVP_MAC_CTX_set_params(macContext, parameters);
        }

        return new Group("HMAC-SHA256, 32-byte key (new each call), 1-byte message", [
            Check(new Candidate("libsodium crypto_auth_hmacsha256 (Parley before)", call => Hmac.SodiumSha256(Key32, One, output)), output, expected),
            Check(new Candidate("RFC 2104 over OpenSSL SHA256_Init/Update/Final", call => Hmac.Sha256(Key32, One, output), InUse: true), output, expected),
            Check(new Candidate("BCL HMACSHA256.HashData", call => HMACSHA256.HashData(Key32, One, output)), output, expected),
            Check(new Candidate("NSec MacAlgorithm.HmacSha256 (Key.Import + Mac)", call =>
            {
                using var key = NSec.Cryptography.Key.Import(NSec.Cryptography.MacAlgorithm.HmacSha256, Key32, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
                NSec.Cryptography.MacAlgorithm.HmacSha256.Mac(key, One, output);
            }), output, expected),
            Check(new Candidate("OpenSSL HMAC() one-shot", call =>
            {
                fixed (byte* k = Key32)
                fixed (byte* d = One)
                fixed (byte* o = output)
                {
                    uint length;
                    _ = HMAC(md, k, 32, d, 1, o, &length);
                }
            }), output, expected),
            Check(new Candidate("OpenSSL HMAC_CTX reused, HMAC_Init_ex with the new key", call =>
            {
                fixed (byte* k = Key32)
                fixed (byte* d = One)
                fixed (byte* o = output)
                {
                    uint length;
                    _ = HMAC_Init_ex(hmacContext, k, 32, 0, 0);
                    _ = HMAC_Update(hmacContext, d, 1);
                    _ = HMAC_Final(hmacContext, o, &length);
                }
            }), output, expected),
            Check(new Candidate("OpenSSL EVP_MAC_CTX reused, EVP_MAC_init with the new key", call =>
            {
                fixed (byte* k = Key32)
                fixed (byte* d = One)
                fixed (byte* o = output)
                {
                    nuint length;
                    _ = EVP_MAC_init(macContext, k, 32, null);
                    _ = EVP_MAC_update(macContext, d, 1);
                    _ = EVP_MAC_final(macContext, o, &length, 32);
                }
            }), output, expected),
        ]);
    }

    private static Group ChainSteps()
    {
        var mk = new byte[32];
        var ck = new byte[32];
        var expected = HMACSHA256.HashData(Key32, One);
        return new Group("KDF_CK step: HMAC(ck, 0x01) and HMAC(ck, 0x02)", [
            Check(new Candidate("libsodium crypto_auth_hmacsha256 x2 (Parley before)", call =>
            {
                Hmac.SodiumSha256(Key32, One, mk);
                Hmac.SodiumSha256(Key32, Two, ck);
            }), mk, expected),
            Check(new Candidate("OpenSSL SHA-256 HMAC x2", call =>
            {
                Hmac.Sha256(Key32, One, mk);
                Hmac.Sha256(Key32, Two, ck);
            }), mk, expected),
            Check(new Candidate("OpenSSL SHA-256 HMAC, key absorbed once (Hmac.Sha256Twice)", call => Hmac.Sha256Twice(Key32, One, mk, Two, ck), InUse: true), mk, expected),
            Check(new Candidate("libsodium, key absorbed once (hmacsha256_init, state copied)", call =>
            {
                var state = stackalloc byte[SodiumCandidates.HmacStateSize];
                var copy = stackalloc byte[SodiumCandidates.HmacStateSize];
                byte two = 2;
                fixed (byte* k = Key32)
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
            }), mk, expected),
        ]);
    }

    private static Group Hkdfs()
    {
        var output = new byte[64];
        var expected = new byte[64];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Key32, expected, Salt32, Info);
        var kdfContext = EVP_KDF_CTX_new(EVP_KDF_fetch(0, "HKDF", 0));
        return new Group("HKDF-SHA256 (KDF_RK): 32-byte IKM and salt, 27-byte info, 64 bytes out", [
            Check(new Candidate("BCL HKDF.DeriveKey (Parley before)", call => HKDF.DeriveKey(HashAlgorithmName.SHA256, Key32, output, Salt32, Info)), output, expected),
            Check(new Candidate("RFC 5869 over OpenSSL SHA-256 HMAC, PRK keyed once", call => Hkdf.Sha256(Key32, Salt32, Info, output), InUse: true), output, expected),
            Check(new Candidate("libsodium crypto_kdf_hkdf_sha256_extract + _expand", call =>
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
            }), output, expected),
            Check(new Candidate("OpenSSL EVP_KDF_CTX (HKDF) reused, parameters per call", call =>
            {
                fixed (byte* digestKey = "digest\0"u8)
                fixed (byte* digestName = "SHA256\0"u8)
                fixed (byte* keyKey = "key\0"u8)
                fixed (byte* saltKey = "salt\0"u8)
                fixed (byte* infoKey = "info\0"u8)
                fixed (byte* k = Key32)
                fixed (byte* s = Salt32)
                fixed (byte* i = Info)
                fixed (byte* o = output)
                {
                    var parameters = stackalloc OsslParam[5];
                    parameters[0] = OsslParam.Utf8(digestKey, digestName, 6);
                    parameters[1] = OsslParam.Octets(keyKey, k, 32);
                    parameters[2] = OsslParam.Octets(saltKey, s, 32);
                    parameters[3] = OsslParam.Octets(infoKey, i, Info.Length);
                    parameters[4] = default;
                    _ = EVP_KDF_derive(kdfContext, o, 64, parameters);
                }
            }), output, expected),
        ]);
    }

    private static Group Agreements()
    {
        var own = new byte[32];
        var ownPublic = new byte[32];
        var peer = new byte[32];
        var peerPublic = new byte[32];
        X25519.GenerateKeyPair(own, ownPublic);
        X25519.GenerateKeyPair(peer, peerPublic);
        var shared = new byte[32];
        var expected = new byte[32];
        _ = X25519.TryAgree(own, peerPublic, expected);

        var nsec = NSec.Cryptography.KeyAgreementAlgorithm.X25519;
        var nsecKey = NSec.Cryptography.Key.Import(nsec, own, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        var nsecPeer = NSec.Cryptography.PublicKey.Import(nsec, peerPublic, NSec.Cryptography.KeyBlobFormat.RawPublicKey);
        nint ownKey;
        nint peerKey;
        fixed (byte* n = own)
        fixed (byte* p = peerPublic)
        {
            ownKey = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, n, 32);
            peerKey = EVP_PKEY_new_raw_public_key(EvpPkeyX25519, 0, p, 32);
        }

        return new Group("X25519 agreement, raw 32-byte keys", [
            Check(new Candidate("libsodium crypto_scalarmult_curve25519", call => X25519.TryAgree(own, peerPublic, shared), InUse: true), shared, expected),
            Check(new Candidate("OpenSSL EVP_PKEY, keys imported per call, own public key given", call => OpenSslX25519.TryAgree(own, ownPublic, peerPublic, shared)), shared, expected),
            Check(new Candidate("OpenSSL EVP_PKEY, keys imported per call, own public recomputed", call => OpenSslX25519.TryAgree(own, default, peerPublic, shared)), shared, expected),
            Check(new Candidate("OpenSSL EVP_PKEY_derive alone (EVP keys made once: the floor)", call =>
            {
                var context = EVP_PKEY_CTX_new(ownKey, 0);
                _ = EVP_PKEY_derive_init(context);
                _ = EVP_PKEY_derive_set_peer_ex(context, peerKey, 0);
                nuint length = 32;
                fixed (byte* s = shared)
                {
                    _ = EVP_PKEY_derive(context, s, &length);
                }

                EVP_PKEY_CTX_free(context);
            }), shared, expected),
            Check(new Candidate("NSec KeyAgreementAlgorithm.X25519.Agree (keys imported once)", call =>
            {
                using var secret = nsec.Agree(nsecKey, nsecPeer);
                // The secret stays inside NSec; the check below uses X25519 itself.
                _ = X25519.TryAgree(own, peerPublic, shared);
            }), shared, expected),
            Check(new Candidate("BouncyCastle X25519.ScalarMult (managed)", call => Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(own, 0, peerPublic, 0, shared, 0)), shared, expected),
        ]);
    }

    private static Group KeyGenerations()
    {
        var privateKey = RandomNumberGenerator.GetBytes(32);
        var publicKey = new byte[32];
        var expected = new byte[32];
        X25519.PublicKeyFromPrivate(privateKey, expected);
        return new Group("X25519 key generation: public key from a random private key", [
            Check(new Candidate("libsodium crypto_scalarmult_curve25519_base", call => X25519.PublicKeyFromPrivate(privateKey, publicKey), InUse: true), publicKey, expected),
            Check(new Candidate("OpenSSL EVP_PKEY import (computes the public key)", call => OpenSslX25519.PublicKeyFromPrivate(privateKey, publicKey)), publicKey, expected),
            Check(new Candidate("BouncyCastle X25519.ScalarMultBase (managed)", call => Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(privateKey, 0, publicKey, 0)), publicKey, expected),
        ]);
    }

    private static Group Aeads()
    {
        var plaintext = RandomNumberGenerator.GetBytes(256);
        var ad = RandomNumberGenerator.GetBytes(169);
        var ciphertext = new byte[256 + 16];
        var opened = new byte[256];
        var nonce = new byte[12];
        return new Group("AES-256-GCM seal + open, 256 bytes, 169-byte AD, new key per message", [
            Check(new Candidate("libsodium crypto_aead_aes256gcm (AES-NI)", call =>
            {
                Aead.Encrypt(Key32, nonce, plaintext, ad, ciphertext);
                _ = Aead.TryDecrypt(Key32, nonce, ciphertext, ad, opened);
            }, InUse: true), opened, plaintext),
            Check(new Candidate("BCL AesGcm, constructed per message", call =>
            {
                using (var gcm = new AesGcm(Key32, 16))
                {
                    gcm.Encrypt(nonce, plaintext, ciphertext.AsSpan(0, 256), ciphertext.AsSpan(256), ad);
                }

                using (var gcm = new AesGcm(Key32, 16))
                {
                    gcm.Decrypt(nonce, ciphertext.AsSpan(0, 256), ciphertext.AsSpan(256), opened, ad);
                }
            }), opened, plaintext),
        ]);
    }

    private static Group Signatures()
    {
        var signer = Ed25519.Generate(); // lives as long as the process
        var publicKey = Ed25519.PublicKeyOf(signer);
        var seed = Ed25519.ExportSeed(signer);
        var nsec = NSec.Cryptography.SignatureAlgorithm.Ed25519;
        var nsecSigner = NSec.Cryptography.Key.Import(nsec, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        var message = RandomNumberGenerator.GetBytes(50);
        var signature = new byte[64];
        Ed25519.Sign(signer, message, signature);
        var expected = signature.ToArray();
        var ok = new byte[1];
        byte[] yes = [1];
        return new Group("Ed25519 (identity, prekey signatures; setups only)", [
            Check(new Candidate("libsodium crypto_sign_ed25519_detached, raw key, 50 bytes", call => Ed25519.Sign(signer, message, signature), InUse: true), signature, expected),
            Check(new Candidate("NSec sign, 50 bytes (Parley before)", call => nsec.Sign(nsecSigner, message, signature)), signature, expected),
            Check(new Candidate("libsodium crypto_sign_ed25519_verify_detached, 50 bytes", call => ok[0] = Ed25519.Verify(publicKey, message, signature) ? (byte)1 : (byte)0, InUse: true), ok, yes),
            Check(new Candidate("NSec verify, PublicKey.Import per call (Parley before)", call =>
                ok[0] = nsec.Verify(NSec.Cryptography.PublicKey.Import(nsec, publicKey, NSec.Cryptography.KeyBlobFormat.RawPublicKey), message, signature) ? (byte)1 : (byte)0), ok, yes),
            Check(new Candidate("BouncyCastle Ed25519.Verify (managed)", call => ok[0] = Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature, 0, publicKey, 0, message, 0, message.Length) ? (byte)1 : (byte)0), ok, yes),
            Once(new Candidate("new signing key: crypto_sign_ed25519_seed_keypair into a pinned array (IdentityKeyPair.Generate)", call =>
            {
                using var key = Ed25519.Generate();
            }, InUse: true)),
            Once(new Candidate("new signing key: NSec Key.Import, locked memory (Parley before)", call =>
            {
                using var key = NSec.Cryptography.Key.Import(nsec, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
            })),
        ]);
    }

    private static Group Kems()
    {
        var (kemPublic, kemSecret) = MlKem768.GenerateKeyPair();
        var kemCiphertext = new byte[MlKem768.CiphertextSize];
        var secret = new byte[32];
        var decapsulated = new byte[32];
        _ = MlKem768.TryEncapsulate(kemPublic, kemCiphertext, secret);
        _ = MlKem768.TryDecapsulate(kemSecret, kemCiphertext, decapsulated);
        var expected = secret.ToArray();

        // The same key pair and ciphertext must come out of BouncyCastle from the same seeds.
        var keySeed = RandomNumberGenerator.GetBytes(64);
        var (sodiumPublic, sodiumSecret) = Seeded(keySeed, MlKem768.GenerateKeyPair);
        var (bouncyPublic, bouncySecret) = BouncyCastleMlKem768.GenerateKeyPair(keySeed);
        if (!sodiumPublic.AsSpan().SequenceEqual(bouncyPublic) || !sodiumSecret.AsSpan().SequenceEqual(bouncySecret))
        {
            throw new InvalidOperationException("BouncyCastle ML-KEM-768 key generation computed something else");
        }

        var m = RandomNumberGenerator.GetBytes(32);
        var bouncyCiphertext = new byte[MlKem768.CiphertextSize];
        _ = Seeded(m, () => MlKem768.TryEncapsulate(kemPublic, kemCiphertext, secret));
        _ = BouncyCastleMlKem768.TryEncapsulate(kemPublic, m, bouncyCiphertext, decapsulated);
        if (!kemCiphertext.AsSpan().SequenceEqual(bouncyCiphertext) || !secret.AsSpan().SequenceEqual(decapsulated))
        {
            throw new InvalidOperationException("BouncyCastle ML-KEM-768 encapsulation computed something else");
        }

        expected = secret.ToArray();
        return new Group("ML-KEM-768 (setups only)", [
            Once(new Candidate("libsodium key generation", call => MlKem768.GenerateKeyPair(), InUse: true)),
            Once(new Candidate("BouncyCastle key generation (Parley before)", call => BouncyCastleMlKem768.GenerateKeyPair(keySeed))),
            Check(new Candidate("libsodium encapsulation", call => MlKem768.TryEncapsulate(kemPublic, kemCiphertext, secret), InUse: true), secret, secret),
            Check(new Candidate("BouncyCastle encapsulation, key decoded per call (Parley before)", call => BouncyCastleMlKem768.TryEncapsulate(kemPublic, m, bouncyCiphertext, secret)), secret, expected),
            Check(new Candidate("libsodium decapsulation, with the FIPS 203 hash check", call => MlKem768.TryDecapsulate(kemSecret, bouncyCiphertext, decapsulated), InUse: true), decapsulated, expected),
            Check(new Candidate("BouncyCastle decapsulation, key decoded per call (Parley before)", call => BouncyCastleMlKem768.TryDecapsulate(kemSecret, bouncyCiphertext, decapsulated)), decapsulated, expected),
        ]);
    }

    /// <summary>Runs <paramref name="operation"/> with RandomSource scripted to give <paramref name="seed"/>.</summary>
    private static T Seeded<T>(byte[] seed, Func<T> operation)
    {
        using (RandomSource.UseDeterministicSourceForVectors(destination => seed.AsSpan(0, destination.Length).CopyTo(destination)))
        {
            return operation();
        }
    }

    /// <summary>A candidate with no output to compare: run once, so that it is known to work.</summary>
    private static Candidate Once(Candidate candidate)
    {
        candidate.Operation(0);
        return candidate;
    }

    /// <summary>Runs the candidate once and insists that it produced <paramref name="expected"/>.</summary>
    private static Candidate Check(Candidate candidate, byte[] output, byte[] expected)
    {
        Array.Clear(output);
        candidate.Operation(0);
        if (!output.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException($"{candidate.Name} computed something else");
        }

        return candidate;
    }

    private static string OpenSslVersion()
    {
        var version = OpenSSL_version(0);
        return version == 0 ? "unknown OpenSSL" : System.Runtime.InteropServices.Marshal.PtrToStringUTF8(version) ?? "unknown OpenSSL";
    }

    private sealed record Group(string Title, Candidate[] Candidates);

    private sealed record Candidate(string Name, Action<long> Operation, bool InUse = false);
}
