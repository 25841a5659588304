namespace Parley.Protocol.Primitives;

/// <summary>The libraries that can compute X25519.</summary>
internal enum X25519Backend
{
    /// <summary>libsodium, bundled with NSec: always present.</summary>
    Sodium,

    /// <summary>OpenSSL 3's libcrypto.so.3.</summary>
    OpenSsl,
}
