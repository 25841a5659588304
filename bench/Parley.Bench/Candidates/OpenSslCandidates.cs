using System.Runtime.InteropServices;

namespace Parley.Bench.Candidates;

/// <summary>
/// OpenSSL 3 entry points measured as alternatives by the primitives command. The one Parley
/// adopted (X25519 through EVP_PKEY) lives in the protocol library; the rest are here only to
/// be measured.
/// </summary>
internal static unsafe partial class OpenSslCandidates
{
    private const string Library = "libcrypto.so.3";

    internal const int EvpPkeyX25519 = 1034;

    [LibraryImport(Library)]
    internal static partial nint EVP_sha256();

    [LibraryImport(Library)]
    internal static partial nint OpenSSL_version(int type);

    // One-shot legacy HMAC (goes through EVP_Q_mac in 3.0).
    [LibraryImport(Library)]
    internal static partial byte* HMAC(nint md, byte* key, int keyLength, byte* data, nuint dataLength, byte* output, uint* outputLength);

    [LibraryImport(Library)]
    internal static partial nint HMAC_CTX_new();

    [LibraryImport(Library)]
    internal static partial int HMAC_Init_ex(nint ctx, byte* key, int keyLength, nint md, nint engine);

    [LibraryImport(Library)]
    internal static partial int HMAC_Update(nint ctx, byte* data, nuint length);

    [LibraryImport(Library)]
    internal static partial int HMAC_Final(nint ctx, byte* output, uint* outputLength);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_MAC_fetch(nint libraryContext, string algorithm, nint properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_MAC_CTX_new(nint mac);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_CTX_set_params(nint ctx, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_init(nint ctx, byte* key, nuint keyLength, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_update(nint ctx, byte* data, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_final(nint ctx, byte* output, nuint* outputLength, nuint outputSize);

    // Low-level SHA-256 (SHA-NI assembly, no EVP dispatch). SHA256_CTX is 112 bytes.
    [LibraryImport(Library)]
    internal static partial int SHA256_Init(byte* ctx);

    [LibraryImport(Library)]
    internal static partial int SHA256_Update(byte* ctx, byte* data, nuint length);

    [LibraryImport(Library)]
    internal static partial int SHA256_Final(byte* digest, byte* ctx);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_KDF_fetch(nint libraryContext, string algorithm, nint properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_KDF_CTX_new(nint kdf);

    [LibraryImport(Library)]
    internal static partial int EVP_KDF_derive(nint ctx, byte* key, nuint keyLength, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_new_raw_private_key(int type, nint engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_new_raw_public_key(int type, nint engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_get_raw_public_key(nint pkey, byte* output, nuint* length);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_free(nint pkey);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_CTX_new(nint pkey, nint engine);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, string name, nint properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, byte* name, nint properties);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_set_peer_ex(nint ctx, nint peer, int validatePeer);

    [LibraryImport(Library)]
    internal static partial void ERR_clear_error();

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_CTX_free(nint ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_init(nint ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_set_peer(nint ctx, nint peer);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive(nint ctx, byte* key, nuint* length);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_fromdata_init(nint ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_fromdata(nint ctx, nint* pkey, int selection, OsslParam* parameters);

    internal const int EvpPkeyKeypair = 0x87; // OSSL_KEYMGMT_SELECT_ALL_PARAMETERS | PUBLIC | PRIVATE
    internal const int EvpPkeyPublicKey = 0x86; // OSSL_KEYMGMT_SELECT_ALL_PARAMETERS | PUBLIC

    internal const uint OsslParamUtf8String = 4;
    internal const uint OsslParamOctetString = 5;

    /// <summary>OSSL_PARAM (include/openssl/core.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OsslParam
    {
        public byte* Key;
        public uint DataType;
        public void* Data;
        public nuint DataSize;
        public nuint ReturnSize;

        internal static OsslParam Octets(byte* key, byte* data, int length) =>
            new() { Key = key, DataType = OsslParamOctetString, Data = data, DataSize = (nuint)length, ReturnSize = nuint.MaxValue };

        internal static OsslParam Utf8(byte* key, byte* data, int length) =>
            new() { Key = key, DataType = OsslParamUtf8String, Data = data, DataSize = (nuint)length, ReturnSize = nuint.MaxValue };
    }
}
