using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.X509.Extension;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// A checked Ed25519 root certificate: self-signed, a CA that may sign certificates. What a
/// client pins and what a <see cref="CertificateAuthority"/> signs as.
/// </summary>
internal sealed class RootCertificate
{
    private const string What = "CA certificate";

    private RootCertificate(ParsedCertificate certificate, Ed25519PublicKeyParameters publicKey, byte[] keyIdentifier)
    {
        Certificate = certificate;
        PublicKey = publicKey;
        KeyIdentifier = keyIdentifier;
        SubjectDer = certificate.Tbs.Subject.GetEncoded(Asn1Encodable.Der);
        (NotBefore, NotAfter) = certificate.Validity();
        Fingerprint = CertificateFingerprint.Of(certificate.Der);
        Pem = Certificates.Pem.Encode(CertificateProfile.CertificateLabel, certificate.Der);
    }

    /// <summary>The parsed certificate.</summary>
    internal ParsedCertificate Certificate { get; }

    /// <summary>The certificate's DER bytes.</summary>
    internal byte[] Der => Certificate.Der;

    /// <summary>The certificate as PEM.</summary>
    internal string Pem { get; }

    /// <summary>The subject, which is the issuer of every certificate the CA signs.</summary>
    internal X509Name Subject => Certificate.Tbs.Subject;

    /// <summary>The DER encoding of <see cref="Subject"/>, for exact issuer comparison.</summary>
    internal byte[] SubjectDer { get; }

    /// <summary>The CA's signing key.</summary>
    internal Ed25519PublicKeyParameters PublicKey { get; }

    /// <summary>The subject key identifier that issued certificates carry as their authority key identifier.</summary>
    internal byte[] KeyIdentifier { get; }

    /// <summary>Start of the validity period.</summary>
    internal DateTimeOffset NotBefore { get; }

    /// <summary>End of the validity period.</summary>
    internal DateTimeOffset NotAfter { get; }

    /// <summary>The SHA-256 fingerprint of <see cref="Der"/>.</summary>
    internal CertificateFingerprint Fingerprint { get; }

    /// <summary>Parses and checks a root from PEM or DER.</summary>
    internal static RootCertificate Parse(ReadOnlySpan<byte> pemOrDer) => Check(ParsedCertificate.Decode(pemOrDer, What));

    /// <summary>Parses and checks a root from PEM.</summary>
    internal static RootCertificate Parse(string pem) => Check(ParsedCertificate.Decode(pem, What));

    /// <summary>Checks a root the CA just generated.</summary>
    internal static RootCertificate FromDer(byte[] der) => Check(ParsedCertificate.FromDer(der, What));

    /// <summary>Whether a certificate names this root as its issuer (by DN, exactly).</summary>
    internal bool IsIssuerOf(ParsedCertificate certificate) =>
        certificate.Tbs.Issuer.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(SubjectDer);

    private static RootCertificate Check(ParsedCertificate certificate)
    {
        Ed25519PublicKeyParameters publicKey = certificate.Ed25519PublicKey()
            ?? throw Error.UntrustedCertificate("the CA certificate does not have an Ed25519 key");

        if (!certificate.Tbs.Issuer.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(certificate.Tbs.Subject.GetEncoded(Asn1Encodable.Der)))
        {
            throw Error.UntrustedCertificate("the CA certificate is not self-signed");
        }

        if (!certificate.IsSignedBy(publicKey))
        {
            throw Error.InvalidSignature(What);
        }

        if (!certificate.IsDistinguishedEncoding())
        {
            throw Error.Malformed($"{What} (not DER)");
        }

        try
        {
            X509Extensions? extensions = certificate.Extensions;
            BasicConstraints? constraints = BasicConstraints.FromExtensions(extensions);
            KeyUsage? usage = KeyUsage.FromExtensions(extensions);
            if (certificate.Tbs.Version != 3
                || constraints is null
                || !constraints.IsCA()
                || (usage is not null && (usage.IntValue & KeyUsage.KeyCertSign) == 0))
            {
                throw Error.UntrustedCertificate("the CA certificate is not a certificate authority");
            }

            byte[] keyIdentifier = SubjectKeyIdentifier.FromExtensions(extensions)?.GetKeyIdentifier()
                ?? X509ExtensionUtilities.CreateSubjectKeyIdentifier(certificate.Tbs.SubjectPublicKeyInfo).GetKeyIdentifier();
            return new RootCertificate(certificate, publicKey, keyIdentifier);
        }
        catch (Exception e) when (e is not ParleyProtocolException)
        {
            throw Error.Malformed($"{What} extensions", e);
        }
    }
}
