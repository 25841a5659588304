using System.Runtime.InteropServices;

namespace Parley.Protocol.Primitives;

/// <summary>
/// OpenSSL 3's libcrypto.so.3, loaded at run time so that a machine without it (Windows, macOS,
/// a minimal container) falls back to libsodium instead of failing. Only the entry points the
/// primitives use are resolved; if any is missing the library counts as absent.
/// </summary>
internal static unsafe class LibCrypto
{
    /// <summary>NID_X25519 / EVP_PKEY_X25519 (include/openssl/obj_mac.h).</summary>
    internal const int EvpPkeyX25519 = 1034;

    /// <summary>EVP_PKEY_PUBLIC_KEY and EVP_PKEY_KEYPAIR selections (include/openssl/evp.h).</summary>
    internal const int SelectPublicKey = 0x86;
    internal const int SelectKeyPair = 0x87;

    /// <summary>sizeof(SHA256_CTX) is 112 bytes (include/openssl/sha.h); kept with room to spare.</summary>
    internal const int Sha256ContextSize = 128;

    internal const uint OsslParamOctetString = 5;

    private static readonly string[] Names = ["libcrypto.so.3", "libcrypto.so"];

    static LibCrypto()
    {
        foreach (var name in Names)
        {
            if (NativeLibrary.TryLoad(name, typeof(LibCrypto).Assembly, null, out var handle) && TryBind(handle))
            {
                IsLoaded = true;
                return;
            }
        }
    }

    /// <summary>True when an OpenSSL 3 libcrypto was found with every entry point below.</summary>
    internal static bool IsLoaded { get; }

    internal static delegate* unmanaged<nint, byte*, nint, nint> EVP_PKEY_CTX_new_from_name;
    internal static delegate* unmanaged<nint, nint, nint> EVP_PKEY_CTX_new;
    internal static delegate* unmanaged<nint, void> EVP_PKEY_CTX_free;
    internal static delegate* unmanaged<nint, int> EVP_PKEY_fromdata_init;
    internal static delegate* unmanaged<nint, nint*, int, OsslParam*, int> EVP_PKEY_fromdata;
    internal static delegate* unmanaged<nint, byte*, nuint*, int> EVP_PKEY_get_raw_public_key;
    internal static delegate* unmanaged<nint, void> EVP_PKEY_free;
    internal static delegate* unmanaged<nint, int> EVP_PKEY_derive_init;
    internal static delegate* unmanaged<nint, nint, int, int> EVP_PKEY_derive_set_peer_ex;
    internal static delegate* unmanaged<nint, byte*, nuint*, int> EVP_PKEY_derive;
    internal static delegate* unmanaged<void> ERR_clear_error;
    // The SHA-256 calls hash at most a few blocks in the hot path and never block or call back, so
    // they skip the GC transition (which costs as much as hashing a block). SHA256_UpdateLong is the
    // same function with the transition, for inputs long enough to take more than a microsecond.
    internal static delegate* unmanaged[SuppressGCTransition]<byte*, int> SHA256_Init;
    internal static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int> SHA256_Update;
    internal static delegate* unmanaged<byte*, byte*, nuint, int> SHA256_UpdateLong;
    internal static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int> SHA256_Final;

    private static bool TryBind(nint handle)
    {
        nint Export(string name) => NativeLibrary.TryGetExport(handle, name, out var address) ? address : 0;

        var exports = new[]
        {
            Export("EVP_PKEY_CTX_new_from_name"), Export("EVP_PKEY_CTX_new"), Export("EVP_PKEY_CTX_free"),
            Export("EVP_PKEY_fromdata_init"), Export("EVP_PKEY_fromdata"), Export("EVP_PKEY_get_raw_public_key"),
            Export("EVP_PKEY_free"), Export("EVP_PKEY_derive_init"), Export("EVP_PKEY_derive_set_peer_ex"),
            Export("EVP_PKEY_derive"), Export("ERR_clear_error"),
            Export("SHA256_Init"), Export("SHA256_Update"), Export("SHA256_Final"),
        };
        if (Array.IndexOf(exports, 0) >= 0)
        {
            return false;
        }

        EVP_PKEY_CTX_new_from_name = (delegate* unmanaged<nint, byte*, nint, nint>)exports[0];
        EVP_PKEY_CTX_new = (delegate* unmanaged<nint, nint, nint>)exports[1];
        EVP_PKEY_CTX_free = (delegate* unmanaged<nint, void>)exports[2];
        EVP_PKEY_fromdata_init = (delegate* unmanaged<nint, int>)exports[3];
        EVP_PKEY_fromdata = (delegate* unmanaged<nint, nint*, int, OsslParam*, int>)exports[4];
        EVP_PKEY_get_raw_public_key = (delegate* unmanaged<nint, byte*, nuint*, int>)exports[5];
        EVP_PKEY_free = (delegate* unmanaged<nint, void>)exports[6];
        EVP_PKEY_derive_init = (delegate* unmanaged<nint, int>)exports[7];
        EVP_PKEY_derive_set_peer_ex = (delegate* unmanaged<nint, nint, int, int>)exports[8];
        EVP_PKEY_derive = (delegate* unmanaged<nint, byte*, nuint*, int>)exports[9];
        ERR_clear_error = (delegate* unmanaged<void>)exports[10];
        SHA256_Init = (delegate* unmanaged[SuppressGCTransition]<byte*, int>)exports[11];
        SHA256_Update = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)exports[12];
        SHA256_UpdateLong = (delegate* unmanaged<byte*, byte*, nuint, int>)exports[12];
        SHA256_Final = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int>)exports[13];
        return true;
    }

    /// <summary>OSSL_PARAM (include/openssl/core.h); an array ends with an all-zero element.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OsslParam
    {
        public byte* Key;
        public uint DataType;
        public void* Data;
        public nuint DataSize;
        public nuint ReturnSize;

        internal static OsslParam Octets(byte* key, byte* data, int length) => new()
        {
            Key = key,
            DataType = OsslParamOctetString,
            Data = data,
            DataSize = (nuint)length,
            ReturnSize = nuint.MaxValue, // OSSL_PARAM_UNMODIFIED
        };
    }
}
