namespace Parley.Protocol.Internal;

/// <summary>Throw helpers: one place for every protocol error message (STYLE.md, house rule 4).</summary>
internal static class Error
{
    internal static ParleyProtocolException Malformed(string what) =>
        new(ProtocolErrorKind.Malformed, $"malformed {what}");

    internal static ParleyProtocolException Malformed(string what, Exception inner) =>
        new(ProtocolErrorKind.Malformed, $"malformed {what}", inner);

    internal static ParleyProtocolException UnsupportedVersion(string what, uint version) =>
        new(ProtocolErrorKind.UnsupportedVersion, $"unsupported {what} version {version}");

    internal static ParleyProtocolException Tampered() =>
        new(ProtocolErrorKind.Tampered, "message failed authentication (tampered or not for this session)");

    internal static ParleyProtocolException Replayed(uint counter) =>
        new(ProtocolErrorKind.Replayed, $"message {counter} was already received (replay)");

    internal static ParleyProtocolException TooFarAhead(uint counter, uint expected) =>
        new(ProtocolErrorKind.TooFarAhead, $"message {counter} is too far ahead of {expected} (more than {Ratchet.RatchetLimits.MaxSkip} skipped)");

    internal static ParleyProtocolException InvalidSignature(string what) =>
        new(ProtocolErrorKind.InvalidSignature, $"invalid signature on {what}");

    internal static ParleyProtocolException UnknownPreKey(string what, uint id) =>
        new(ProtocolErrorKind.UnknownPreKey, $"unknown or already used {what} {id}");

    internal static ParleyProtocolException InvalidKey(string what) =>
        new(ProtocolErrorKind.InvalidKey, $"invalid {what}");

    internal static ParleyProtocolException NoSession() =>
        new(ProtocolErrorKind.NoSession, "no session with this peer");

    internal static ParleyProtocolException UntrustedIdentity(string peer) =>
        new(ProtocolErrorKind.UntrustedIdentity, $"the identity key of {peer} has changed; it must be accepted before messages are exchanged");

    // Certificates (Certificates/): the kinds a peer's or a server's certificate can cause.

    internal static ParleyProtocolException InvalidKey(string what, Exception inner) =>
        new(ProtocolErrorKind.InvalidKey, $"invalid {what}", inner);

    internal static ParleyProtocolException UntrustedCertificate(string reason) =>
        new(ProtocolErrorKind.UntrustedCertificate, $"untrusted certificate: {reason}");

    internal static ParleyProtocolException CertificateExpired(string what, DateTimeOffset notAfter) =>
        new(ProtocolErrorKind.CertificateExpired, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} expired at {notAfter:u}"));

    internal static ParleyProtocolException CertificateNotYetValid(string what, DateTimeOffset notBefore) =>
        new(ProtocolErrorKind.CertificateExpired, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} is not valid before {notBefore:u}"));

    internal static ParleyProtocolException CertificateRevoked(string serialHex) =>
        new(ProtocolErrorKind.CertificateRevoked, $"certificate {serialHex} is revoked");

    // PAKE (Pake/): a wrong code, and invite codes that do not parse.

    internal static ParleyProtocolException CodeMismatch() =>
        new(ProtocolErrorKind.CodeMismatch, "code mismatch: the other side used a different code; nothing was exchanged");

    internal static ParleyProtocolException InvalidInviteCode(string reason) =>
        new(ProtocolErrorKind.Malformed, $"invalid invite code: {reason}");
}
