namespace Parley.Server.Storage;

/// <summary>
/// A registered user as stored: the identity the CA certified and its certificate. The engines
/// keep times to the millisecond (UTC).
/// </summary>
internal sealed record UserRecord(
    string Name,
    byte[] SigningKey,
    byte[] DhKey,
    byte[] DhKeySignature,
    string CertificatePem,
    string CertificateSerial,
    DateTimeOffset RegisteredAt,
    DateTimeOffset? RevokedAt);
