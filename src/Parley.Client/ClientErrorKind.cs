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

    /// <summary>The two sides of an invite code used different codes (PAKE key confirmation failed); nothing was exchanged.</summary>
    CodeMismatch = 7,

    /// <summary>The invite code's nameplate expired before anyone joined.</summary>
    CodeExpired = 8,

    /// <summary>No invitation has the code's nameplate.</summary>
    CodeUnknown = 9,

    /// <summary>The invite code is in use by someone else, or was already used.</summary>
    CodeTaken = 10,

    /// <summary>The other side of an invite code left before the exchange finished.</summary>
    PeerLeft = 11,
}
