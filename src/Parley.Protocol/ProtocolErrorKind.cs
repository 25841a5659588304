namespace Parley.Protocol;

/// <summary>
/// What went wrong, for errors that a peer, a server or a network can cause. Each value is a stable
/// code: clients show it, tests assert on it, and its number never changes.
/// </summary>
public enum ProtocolErrorKind
{
    /// <summary>The bytes do not parse as the expected structure (wrong length, bad encoding).</summary>
    Malformed = 1,

    /// <summary>The message declares a protocol version this build does not speak.</summary>
    UnsupportedVersion = 2,

    /// <summary>The message failed authentication: it was altered, or is not for this session.</summary>
    Tampered = 3,

    /// <summary>The message key was already used: this message was delivered before.</summary>
    Replayed = 4,

    /// <summary>The message claims to be more than MAX_SKIP messages ahead of its chain.</summary>
    TooFarAhead = 5,

    /// <summary>A signature (over a prekey, an identity key or a certificate) does not verify.</summary>
    InvalidSignature = 6,

    /// <summary>A certificate was not issued by the pinned certificate authority.</summary>
    UntrustedCertificate = 7,

    /// <summary>A certificate is outside its validity period.</summary>
    CertificateExpired = 8,

    /// <summary>A certificate appears on the authority's revocation list.</summary>
    CertificateRevoked = 9,

    /// <summary>A prekey that the message refers to is unknown or was already used.</summary>
    UnknownPreKey = 10,

    /// <summary>A public key is invalid (wrong length, low order, or does not match the certified identity).</summary>
    InvalidKey = 11,

    /// <summary>There is no session with the peer; a prekey bundle is needed first.</summary>
    NoSession = 12,

    /// <summary>The peer's identity key differs from the one pinned for that name; sending is blocked until the user accepts it.</summary>
    UntrustedIdentity = 13,

    /// <summary>The other side used a different code or passphrase (PAKE key confirmation failed); nothing was exchanged.</summary>
    CodeMismatch = 14,
}
