namespace Parley.Protocol.Certificates;

/// <summary>
/// What a user certificate that passed <see cref="CertificateValidator.Validate(ReadOnlySpan{byte}, RevocationList?, DateTimeOffset)"/>
/// binds: a user name to an Ed25519 identity key, for a period, under a serial number.
/// </summary>
public sealed class ValidatedCertificate
{
    private readonly byte[] _identityKey;

    internal ValidatedCertificate(string userName, byte[] identityKey, string serialHex, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        UserName = userName;
        _identityKey = identityKey;
        SerialHex = serialHex;
        NotBefore = notBefore;
        NotAfter = notAfter;
    }

    /// <summary>The user name (the certificate's CN).</summary>
    public string UserName { get; }

    /// <summary>The user's raw 32-byte Ed25519 identity public key (RFC 8032 5.1.5).</summary>
    public ReadOnlyMemory<byte> IdentityKey => _identityKey;

    /// <summary>The serial number as lowercase hex without leading zeros.</summary>
    public string SerialHex { get; }

    /// <summary>Start of the validity period.</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>End of the validity period.</summary>
    public DateTimeOffset NotAfter { get; }

    /// <inheritdoc/>
    public override string ToString() => $"certificate of {UserName} serial={SerialHex}";
}
