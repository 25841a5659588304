namespace Parley.Client;

/// <summary>What a client operation failed on; each is one clear line for the CLI.</summary>
public enum ClientErrorKind
{
    /// <summary>The server cannot be reached or answered with a transport error.</summary>
    ServerUnreachable = 1,

    /// <summary>The server refused the request (the message says why).</summary>
    Refused = 2,

    /// <summary>The peer's certificate is not from the pinned CA, is revoked, or does not match its keys.</summary>
    UntrustedPeer = 3,

    /// <summary>The peer's identity key changed; sending is blocked until the user accepts it.</summary>
    KeyChanged = 4,

    /// <summary>The server's CA does not match the fingerprint the user gave.</summary>
    CaMismatch = 5,

    /// <summary>No such user or contact.</summary>
    UnknownPeer = 6,
}
