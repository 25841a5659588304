using System.Runtime.InteropServices;

namespace Parley.Bench.Candidates;

/// <summary>libsodium entry points measured as alternatives (the bundled libsodium of NSec).</summary>
internal static unsafe partial class SodiumCandidates
{
    private const string Library = "libsodium";

    /// <summary>crypto_auth_hmacsha256_state: two crypto_hash_sha256_state of 104 bytes.</summary>
    internal const int HmacStateSize = 208;

    [LibraryImport(Library)]
    internal static partial int sodium_init();

    [LibraryImport(Library)]
    internal static partial int crypto_auth_hmacsha256_init(byte* state, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial int crypto_auth_hmacsha256_update(byte* state, byte* data, ulong length);

    [LibraryImport(Library)]
    internal static partial int crypto_auth_hmacsha256_final(byte* state, byte* output);

    [LibraryImport(Library)]
    internal static partial int crypto_kdf_hkdf_sha256_extract(byte* prk, byte* salt, nuint saltLength, byte* ikm, nuint ikmLength);

    [LibraryImport(Library)]
    internal static partial int crypto_kdf_hkdf_sha256_expand(byte* output, nuint outputLength, byte* info, nuint infoLength, byte* prk);

    [LibraryImport(Library)]
    internal static partial int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);

    [LibraryImport(Library)]
    internal static partial int crypto_scalarmult_curve25519_base(byte* q, byte* n);
}
