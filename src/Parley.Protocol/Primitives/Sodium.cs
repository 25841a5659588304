using System.Runtime.InteropServices;

namespace Parley.Protocol.Primitives;

/// <summary>
/// The few libsodium functions Parley calls directly, on raw key bytes. NSec (which ships this
/// same libsodium) wraps keys in handles that must be imported per use; the ratchet derives a
/// fresh key for every message, so the hot path calls libsodium without that per-call import.
/// Ed25519 and ML-KEM-768 are called the same way: an NSec key lives in guarded, locked memory
/// whose creation costs several times the signature itself (docs/performance.md).
/// </summary>
internal static partial class Sodium
{
    private const string Library = "libsodium";

    static Sodium()
    {
        if (sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium failed to initialise");
        }
    }

    /// <summary>Runs the static constructor; call before the first P/Invoke from a given type.</summary>
    internal static void EnsureInitialized()
    {
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_auth_hmacsha256(byte* output, byte* input, ulong inputLength, byte* key);

    [LibraryImport(Library)]
    internal static partial int crypto_aead_aes256gcm_is_available();

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_aead_aes256gcm_encrypt(
        byte* c, out ulong clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_aead_aes256gcm_decrypt(
        byte* m, out ulong mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_scalarmult_curve25519_base(byte* q, byte* n);

    // Ed25519 (RFC 8032) on raw bytes: sk is libsodium's 64-byte form, seed || public key.

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_ed25519_seed_keypair(byte* pk, byte* sk, byte* seed);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_ed25519_detached(byte* sig, ulong* siglen, byte* m, ulong mlen, byte* sk);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_ed25519_verify_detached(byte* sig, byte* m, ulong mlen, byte* pk);

    // ML-KEM-768 (FIPS 203), added in libsodium 1.0.22: keys in the FIPS 203 encodings; the seed of
    // seed_keypair is d || z (64 bytes), the seed of enc_deterministic is m (32 bytes).

    [LibraryImport(Library)]
    internal static partial nuint crypto_kem_mlkem768_publickeybytes();

    [LibraryImport(Library)]
    internal static partial nuint crypto_kem_mlkem768_secretkeybytes();

    [LibraryImport(Library)]
    internal static partial nuint crypto_kem_mlkem768_ciphertextbytes();

    [LibraryImport(Library)]
    internal static partial nuint crypto_kem_mlkem768_sharedsecretbytes();

    [LibraryImport(Library)]
    internal static partial nuint crypto_kem_mlkem768_seedbytes();

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_kem_mlkem768_seed_keypair(byte* pk, byte* sk, byte* seed);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_kem_mlkem768_enc_deterministic(byte* ct, byte* ss, byte* pk, byte* seed);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_kem_mlkem768_dec(byte* ss, byte* ct, byte* sk);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_hash_sha3256(byte* output, byte* input, ulong inputLength);
}
