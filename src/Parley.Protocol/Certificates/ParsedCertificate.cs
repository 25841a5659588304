using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// A certificate whose bytes parse as X.509 (RFC 5280 4.1) but whose signature and contents are
/// not yet checked. Keeps the input DER, so the signature is verified over the bytes received.
/// </summary>
internal sealed class ParsedCertificate
{
    private ParsedCertificate(byte[] der, X509CertificateStructure structure, ReadOnlyMemory<byte> toBeSigned)
    {
        Der = der;
        Structure = structure;
        ToBeSigned = toBeSigned;
    }

    /// <summary>The certificate as received.</summary>
    internal byte[] Der { get; }

    /// <summary>The parsed certificate.</summary>
    internal X509CertificateStructure Structure { get; }

    /// <summary>The tbsCertificate bytes as received, which the signature covers.</summary>
    internal ReadOnlyMemory<byte> ToBeSigned { get; }

    /// <summary>The tbsCertificate.</summary>
    internal TbsCertificateStructure Tbs => Structure.TbsCertificate;

    /// <summary>The extensions, or null for a certificate without any.</summary>
    internal X509Extensions? Extensions => Structure.TbsCertificate.Extensions;

    /// <summary>Parses PEM or DER input; <see cref="ProtocolErrorKind.Malformed"/> if it is not a certificate.</summary>
    internal static ParsedCertificate Decode(ReadOnlySpan<byte> pemOrDer, string what) =>
        FromDer(Pem.DecodePemOrDer(pemOrDer, CertificateProfile.CertificateLabel, CertificateProfile.MaxCertificateBytes, what), what);

    /// <summary>Parses PEM text; <see cref="ProtocolErrorKind.Malformed"/> if it is not a certificate.</summary>
    internal static ParsedCertificate Decode(string pem, string what) =>
        FromDer(Pem.DecodePem(pem, CertificateProfile.CertificateLabel, CertificateProfile.MaxCertificateBytes, what), what);

    /// <summary>Parses DER bytes (which it keeps); <see cref="ProtocolErrorKind.Malformed"/> if they are not a certificate.</summary>
    internal static ParsedCertificate FromDer(byte[] der, string what)
    {
        try
        {
            var structure = X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(der));
            return new ParsedCertificate(der, structure, SignedStructure.ToBeSigned(der));
        }
        catch (Exception e) when (e is not ParleyProtocolException)
        {
            // The boundary: whatever the ASN.1 parsers throw for bad bytes becomes one error kind.
            throw Error.Malformed(what, e);
        }
    }

    /// <summary>Whether the signature algorithm is Ed25519, the same in both places.</summary>
    internal bool IsSignedWithEd25519() =>
        SignedStructure.IsEd25519(Structure.SignatureAlgorithm, Tbs.Signature);

    /// <summary>Whether the certificate is signed by <paramref name="issuerKey"/>, checked over the bytes as received.</summary>
    internal bool IsSignedBy(Ed25519PublicKeyParameters issuerKey) =>
        IsSignedWithEd25519() && SignedStructure.Verify(ToBeSigned.Span, Structure.Signature, issuerKey);

    /// <summary>Whether the input was DER, that is, re-encoding the parsed certificate gives the same bytes.</summary>
    internal bool IsDistinguishedEncoding() =>
        Structure.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(Der);

    /// <summary>
    /// The 32-byte Ed25519 key that the certificate certifies (RFC 8410 4), or null if its key is
    /// of another algorithm.
    /// </summary>
    /// <exception cref="ParleyProtocolException"><see cref="ProtocolErrorKind.InvalidKey"/>: an Ed25519 key of the wrong length or not a curve point.</exception>
    internal Ed25519PublicKeyParameters? Ed25519PublicKey()
    {
        SubjectPublicKeyInfo info = Tbs.SubjectPublicKeyInfo;
        if (!EdECObjectIdentifiers.id_Ed25519.Equals(info.Algorithm.Algorithm) || info.Algorithm.Parameters is not null)
        {
            return null;
        }

        DerBitString bits = info.PublicKey;
        if (bits.PadBits != 0 || bits.GetBytes().Length != CertificateProfile.Ed25519PublicKeyBytes)
        {
            throw Error.InvalidKey("Ed25519 public key in certificate");
        }

        try
        {
            return new Ed25519PublicKeyParameters(bits.GetBytes());
        }
        catch (ArgumentException e)
        {
            throw Error.InvalidKey("Ed25519 public key in certificate", e);
        }
    }

    /// <summary>The validity period (RFC 5280 4.1.2.5).</summary>
    internal (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity() =>
        (Utc(Tbs.StartDate.ToDateTime()), Utc(Tbs.EndDate.ToDateTime()));

    private static DateTimeOffset Utc(DateTime time) =>
        new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
