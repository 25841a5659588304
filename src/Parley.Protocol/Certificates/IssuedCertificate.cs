namespace Parley.Protocol.Certificates;

/// <summary>A certificate that a <see cref="CertificateAuthority"/> has just signed.</summary>
public sealed class IssuedCertificate
{
    private readonly byte[] _der;

    internal IssuedCertificate(byte[] der, string subject, string serialHex, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        _der = der;
        Subject = subject;
        SerialHex = serialHex;
        NotBefore = notBefore;
        NotAfter = notAfter;
        Pem = Certificates.Pem.Encode(CertificateProfile.CertificateLabel, der);
    }

    /// <summary>The certificate's DER encoding.</summary>
    public ReadOnlyMemory<byte> Der => _der;

    /// <summary>The certificate as PEM (<c>-----BEGIN CERTIFICATE-----</c>).</summary>
    public string Pem { get; }

    /// <summary>The subject's common name: the user name, or the server's first host name.</summary>
    public string Subject { get; }

    /// <summary>The serial number as lowercase hex without leading zeros; what a revocation names.</summary>
    public string SerialHex { get; }

    /// <summary>Start of the validity period (backdated a few minutes for clock skew).</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>End of the validity period.</summary>
    public DateTimeOffset NotAfter { get; }

    /// <inheritdoc/>
    public override string ToString() => $"certificate CN={Subject} serial={SerialHex}";
}
