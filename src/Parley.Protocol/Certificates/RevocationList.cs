using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// A certificate revocation list (X.509 v2 CRL, RFC 5280 5) whose signature has been checked
/// against a pinned root. Built by <see cref="CertificateAuthority.CreateRevocationList"/> or read
/// with <see cref="Parse(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>; used by
/// <see cref="CertificateValidator"/>.
/// </summary>
/// <remarks>
/// Whether a list is fresh enough is the caller's policy: compare <see cref="NextUpdate"/> with
/// the time. Delta CRLs, indirect CRLs and critical CRL extensions are not supported and are
/// rejected as <see cref="ProtocolErrorKind.Malformed"/>.
/// </remarks>
public sealed class RevocationList
{
    private const string What = "revocation list";

    private readonly byte[] _der;
    private readonly HashSet<string> _serials;

    private RevocationList(byte[] der, CertificateFingerprint issuer, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, HashSet<string> serials)
    {
        _der = der;
        IssuerFingerprint = issuer;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        _serials = serials;
        Pem = Certificates.Pem.Encode(CertificateProfile.RevocationListLabel, der);
    }

    /// <summary>The list's DER encoding.</summary>
    public ReadOnlyMemory<byte> Der => _der;

    /// <summary>The list as PEM (<c>-----BEGIN X509 CRL-----</c>), as <c>openssl verify -CRLfile</c> reads it.</summary>
    public string Pem { get; }

    /// <summary>When the list was issued.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>When the next list is due; after it, this one is stale.</summary>
    public DateTimeOffset NextUpdate { get; }

    /// <summary>How many certificates the list revokes.</summary>
    public int Count => _serials.Count;

    /// <summary>The fingerprint of the root certificate that signed the list.</summary>
    public CertificateFingerprint IssuerFingerprint { get; }

    /// <summary>
    /// Parses a revocation list (PEM or DER) and checks that <paramref name="pinnedRootPemOrDer"/>
    /// signed it.
    /// </summary>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Malformed"/> if either input does not parse;
    /// <see cref="ProtocolErrorKind.InvalidSignature"/> if the list is not signed by the root.
    /// </exception>
    public static RevocationList Parse(ReadOnlySpan<byte> pemOrDer, ReadOnlySpan<byte> pinnedRootPemOrDer) =>
        Parse(pemOrDer, RootCertificate.Parse(pinnedRootPemOrDer));

    /// <summary>Parses a PEM revocation list and checks that the PEM root <paramref name="pinnedRootPem"/> signed it.</summary>
    /// <exception cref="ParleyProtocolException">As for <see cref="Parse(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>.</exception>
    public static RevocationList Parse(string pem, string pinnedRootPem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        ArgumentNullException.ThrowIfNull(pinnedRootPem);
        RootCertificate root = RootCertificate.Parse(pinnedRootPem);
        return FromDer(Certificates.Pem.DecodePem(pem, CertificateProfile.RevocationListLabel, CertificateProfile.MaxRevocationListBytes, What), root);
    }

    /// <summary>Whether the list revokes the certificate with this serial number (hex, any case, leading zeros ignored).</summary>
    /// <exception cref="ArgumentException"><paramref name="serialHex"/> is not a serial number.</exception>
    public bool Contains(string serialHex)
    {
        if (!SerialNumber.TryParseHex(serialHex, out Org.BouncyCastle.Math.BigInteger serial))
        {
            throw new ArgumentException("expected a positive certificate serial number in hex, at most 40 digits", nameof(serialHex));
        }

        return _serials.Contains(SerialNumber.ToHex(serial));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"revocation list of {Count} certificates, next update {NextUpdate.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Parses PEM or DER input against a checked root.</summary>
    internal static RevocationList Parse(ReadOnlySpan<byte> pemOrDer, RootCertificate root) =>
        FromDer(Certificates.Pem.DecodePemOrDer(pemOrDer, CertificateProfile.RevocationListLabel, CertificateProfile.MaxRevocationListBytes, What), root);

    /// <summary>Parses DER bytes (which it keeps) and checks that <paramref name="root"/> signed them.</summary>
    internal static RevocationList FromDer(byte[] der, RootCertificate root)
    {
        CertificateList list;
        ReadOnlyMemory<byte> toBeSigned;
        try
        {
            list = CertificateList.GetInstance(Asn1Object.FromByteArray(der));
            toBeSigned = SignedStructure.ToBeSigned(der);
        }
        catch (Exception e) when (e is not ParleyProtocolException)
        {
            // The boundary: whatever the ASN.1 parsers throw for bad bytes becomes one error kind.
            throw Error.Malformed(What, e);
        }

        TbsCertificateList tbs = list.TbsCertList;
        if (!tbs.Issuer.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(root.SubjectDer))
        {
            throw Error.InvalidSignature($"{What} (not issued by the pinned CA)");
        }

        if (!SignedStructure.IsEd25519(list.SignatureAlgorithm, tbs.Signature)
            || !SignedStructure.Verify(toBeSigned.Span, list.Signature, root.PublicKey))
        {
            throw Error.InvalidSignature(What);
        }

        if (!list.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(der))
        {
            throw Error.Malformed($"{What} (not DER)");
        }

        try
        {
            return Read(der, root, tbs);
        }
        catch (Exception e) when (e is not ParleyProtocolException)
        {
            throw Error.Malformed(What, e);
        }
    }

    private static RevocationList Read(byte[] der, RootCertificate root, TbsCertificateList tbs)
    {
        if (tbs.Version != 2 || tbs.NextUpdate is null || HasCriticalExtension(tbs.Extensions))
        {
            throw Error.Malformed($"{What} (not a complete X.509 v2 CRL)");
        }

        var serials = new HashSet<string>(StringComparer.Ordinal);
        foreach (CrlEntry entry in tbs.GetRevokedCertificateEnumeration())
        {
            AddEntry(entry, serials);
        }

        return new RevocationList(der, root.Fingerprint, Utc(tbs.ThisUpdate.ToDateTime()), Utc(tbs.NextUpdate.ToDateTime()), serials);
    }

    private static void AddEntry(CrlEntry entry, HashSet<string> serials)
    {
        // RFC 5280 5.3.3: certificateIssuer is critical; an indirect CRL is not Parley's.
        if (HasCriticalExtension(entry.Extensions) || entry.UserCertificate.Value.SignValue <= 0)
        {
            throw Error.Malformed($"{What} entry");
        }

        serials.Add(SerialNumber.ToHex(entry.UserCertificate.Value));
    }

    private static bool HasCriticalExtension(X509Extensions? extensions) =>
        extensions is not null && extensions.GetCriticalExtensionOids().Length > 0;

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
