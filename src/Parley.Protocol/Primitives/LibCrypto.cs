using System.Runtime.InteropServices;

namespace Parley.Protocol.Primitives;

/// <summary>
/// OpenSSL 3's libcrypto.so.3 (the one .NET itself uses on Linux), loaded at run time so that a
/// machine without it (Windows, macOS, a minimal container) falls back to the other
/// implementations instead of failing. Only the low-level SHA-256 entry points are bound, for
/// <see cref="HmacSha256State"/>; if any is missing the library counts as absent.
/// </summary>
internal static unsafe class LibCrypto
{
    /// <summary>sizeof(SHA256_CTX) is 112 bytes (include/openssl/sha.h); kept with room to spare.</summary>
    internal const int Sha256ContextSize = 128;

    private const string Name = "libcrypto.so.3";

    static LibCrypto() =>
        IsLoaded = NativeLibrary.TryLoad(Name, typeof(LibCrypto).Assembly, null, out var handle) && TryBind(handle);

    /// <summary>True when libcrypto.so.3 was found with every entry point below.</summary>
    internal static bool IsLoaded { get; }

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

        var exports = new[] { Export("SHA256_Init"), Export("SHA256_Update"), Export("SHA256_Final") };
        if (Array.IndexOf(exports, 0) >= 0)
        {
            return false;
        }

        SHA256_Init = (delegate* unmanaged[SuppressGCTransition]<byte*, int>)exports[0];
        SHA256_Update = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)exports[1];
        SHA256_UpdateLong = (delegate* unmanaged<byte*, byte*, nuint, int>)exports[1];
        SHA256_Final = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int>)exports[2];
        return true;
    }
}
