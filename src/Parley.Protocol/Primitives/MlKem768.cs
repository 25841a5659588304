using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// ML-KEM-768 (FIPS 203) through libsodium's crypto_kem_mlkem768 (1.0.22), called directly on the
/// FIPS 203 encodings. The randomness of key generation (d || z) and encapsulation (m) is drawn
/// from <see cref="RandomSource"/> and passed to libsodium's seeded entry points, so one switch
/// still controls all randomness. BouncyCastle's managed ML-KEM computes the same function and
/// was used before; it is kept as a measured candidate in the benchmark (docs/performance.md).
/// </summary>
internal static class MlKem768
{
    internal const int PublicKeySize = 1184;
    internal const int SecretKeySize = 2400;
    internal const int CiphertextSize = 1088;
    internal const int SharedSecretSize = 32;

    /// <summary>d || z of FIPS 203 Algorithm 19.</summary>
    private const int KeyGenerationSeedSize = 64;

    /// <summary>m of FIPS 203 Algorithm 20.</summary>
    private const int EncapsulationSeedSize = 32;

    /// <summary>dk = dk_PKE || ek || H(ek) || z (FIPS 203 Algorithm 16): where ek and H(ek) start.</summary>
    private const int EncapsulationKeyOffset = 1152;
    private const int EncapsulationKeyHashOffset = EncapsulationKeyOffset + PublicKeySize;

    static MlKem768()
    {
        Sodium.EnsureInitialized();
        if (Sodium.crypto_kem_mlkem768_publickeybytes() != PublicKeySize
            || Sodium.crypto_kem_mlkem768_secretkeybytes() != SecretKeySize
            || Sodium.crypto_kem_mlkem768_ciphertextbytes() != CiphertextSize
            || Sodium.crypto_kem_mlkem768_sharedsecretbytes() != SharedSecretSize
            || Sodium.crypto_kem_mlkem768_seedbytes() != KeyGenerationSeedSize)
        {
            throw new InvalidOperationException("libsodium's ML-KEM-768 has unexpected sizes");
        }
    }

    internal static string Implementation => "libsodium crypto_kem_mlkem768";

    /// <summary>Returns (encapsulation key, decapsulation key) in FIPS 203 encodings.</summary>
    internal static unsafe (byte[] PublicKey, byte[] SecretKey) GenerateKeyPair()
    {
        var publicKey = new byte[PublicKeySize];
        var secretKey = new byte[SecretKeySize];
        Span<byte> seed = stackalloc byte[KeyGenerationSeedSize];
        try
        {
            RandomSource.Fill(seed);
            fixed (byte* pk = publicKey)
            fixed (byte* sk = secretKey)
            fixed (byte* s = seed)
            {
                _ = Sodium.crypto_kem_mlkem768_seed_keypair(pk, sk, s);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }

        return (publicKey, secretKey);
    }

    /// <summary>
    /// Encapsulates to <paramref name="publicKey"/>. Returns false when the key is malformed
    /// (wrong length, or coefficients out of range: the FIPS 203 §7.2 input check, which libsodium makes).
    /// </summary>
    internal static unsafe bool TryEncapsulate(ReadOnlySpan<byte> publicKey, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (publicKey.Length != PublicKeySize || ciphertext.Length != CiphertextSize || sharedSecret.Length != SharedSecretSize)
        {
            return false;
        }

        Span<byte> seed = stackalloc byte[EncapsulationSeedSize];
        try
        {
            RandomSource.Fill(seed);
            fixed (byte* ct = ciphertext)
            fixed (byte* ss = sharedSecret)
            fixed (byte* pk = publicKey)
            fixed (byte* m = seed)
            {
                return Sodium.crypto_kem_mlkem768_enc_deterministic(ct, ss, pk, m) == 0;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>
    /// Decapsulates. Returns false when the decapsulation key fails the FIPS 203 §7.3 hash check
    /// (its stored H(ek) differs from SHA3-256 of its ek; libsodium does not check this, so it is
    /// done here). ML-KEM decapsulation never fails on a well-sized ciphertext (implicit rejection
    /// yields an unrelated secret), so a forged ciphertext shows up later as an AEAD failure.
    /// </summary>
    internal static unsafe bool TryDecapsulate(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (secretKey.Length != SecretKeySize || ciphertext.Length != CiphertextSize || sharedSecret.Length != SharedSecretSize)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        fixed (byte* ss = sharedSecret)
        fixed (byte* ct = ciphertext)
        fixed (byte* sk = secretKey)
        fixed (byte* h = hash)
        {
            _ = Sodium.crypto_hash_sha3256(h, sk + EncapsulationKeyOffset, PublicKeySize);
            if (!hash.SequenceEqual(secretKey.Slice(EncapsulationKeyHashOffset, hash.Length)))
            {
                return false;
            }

            return Sodium.crypto_kem_mlkem768_dec(ss, ct, sk) == 0;
        }
    }
}
