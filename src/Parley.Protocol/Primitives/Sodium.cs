using System.Runtime.InteropServices;

namespace Parley.Protocol.Primitives;

/// <summary>
/// The few libsodium functions Parley calls directly, on raw key bytes. NSec (which ships this
/// same libsodium) wraps keys in handles that must be imported per use; the ratchet derives a
/// fresh key for every message, so the hot path calls libsodium without that per-call import.
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
}
