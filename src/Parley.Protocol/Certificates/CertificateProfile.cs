namespace Parley.Protocol.Certificates;

/// <summary>
/// The named limits of Parley's certificate profile (DESIGN.md, "Protocol decisions"): what the
/// authority issues and what the validator accepts.
/// </summary>
internal static class CertificateProfile
{
    /// <summary>How long a root certificate is valid.</summary>
    internal const int RootValidityYears = 10;

    /// <summary>How long a user or server certificate is valid.</summary>
    internal const int LeafValidityYears = 1;

    /// <summary>notBefore is backdated by this much so that peers whose clocks run slow accept a fresh certificate.</summary>
    internal static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Random bits in a serial number (RFC 5280 4.1.2.2 allows up to 20 octets).</summary>
    internal const int SerialBytes = 16;

    /// <summary>Longest serial number accepted, in hex digits (RFC 5280 4.1.2.2: at most 20 octets).</summary>
    internal const int MaxSerialHexDigits = 40;

    /// <summary>Longest CA common name (RFC 5280 appendix A: ub-common-name).</summary>
    internal const int MaxCommonNameLength = 64;

    /// <summary>Largest certificate accepted as input; Parley's are well under 1 KiB.</summary>
    internal const int MaxCertificateBytes = 16 * 1024;

    /// <summary>Largest revocation list accepted as input (about 25,000 entries).</summary>
    internal const int MaxRevocationListBytes = 1024 * 1024;

    /// <summary>Longest revocation list validity a CA will sign.</summary>
    internal static readonly TimeSpan MaxRevocationListValidity = TimeSpan.FromDays(366);

    /// <summary>Length of an Ed25519 public key (RFC 8032 5.1.5).</summary>
    internal const int Ed25519PublicKeyBytes = 32;

    /// <summary>Length of an Ed25519 private key seed (RFC 8032 5.1.5).</summary>
    internal const int Ed25519SeedBytes = 32;

    /// <summary>PEM label of a certificate (RFC 7468 5.1).</summary>
    internal const string CertificateLabel = "CERTIFICATE";

    /// <summary>PEM label of a revocation list (RFC 7468 6).</summary>
    internal const string RevocationListLabel = "X509 CRL";

    /// <summary>PEM label of an unencrypted PKCS#8 private key (RFC 7468 10).</summary>
    internal const string PrivateKeyLabel = "PRIVATE KEY";
}
