namespace Parley.Protocol.Certificates;

/// <summary>An entry for <see cref="CertificateAuthority.CreateRevocationList"/>: which certificate, revoked when.</summary>
public sealed class RevokedCertificate
{
    /// <summary>Names a revoked certificate.</summary>
    /// <param name="serialHex">The certificate's serial number in hex (as <see cref="IssuedCertificate.SerialHex"/>; case and leading zeros do not matter).</param>
    /// <param name="revokedAt">When it was revoked.</param>
    /// <exception cref="ArgumentException"><paramref name="serialHex"/> is not a positive serial number of at most 20 octets.</exception>
    public RevokedCertificate(string serialHex, DateTimeOffset revokedAt)
    {
        if (!SerialNumber.TryParseHex(serialHex, out Org.BouncyCastle.Math.BigInteger serial))
        {
            throw new ArgumentException("expected a positive certificate serial number in hex, at most 40 digits", nameof(serialHex));
        }

        SerialHex = SerialNumber.ToHex(serial);
        RevokedAt = revokedAt;
    }

    /// <summary>The serial number as lowercase hex without leading zeros.</summary>
    public string SerialHex { get; }

    /// <summary>When the certificate was revoked.</summary>
    public DateTimeOffset RevokedAt { get; }

    /// <inheritdoc/>
    public override string ToString() => $"revoked {SerialHex}";
}
