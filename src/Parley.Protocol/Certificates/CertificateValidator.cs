using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// Checks user certificates against a pinned root (RFC 5280 6.1, for a path of one certificate):
/// issued and signed by the root, within validity, an end-entity signing certificate for an
/// Ed25519 identity key, and not revoked.
/// </summary>
/// <remarks>
/// Validation never reads the clock: the caller passes the time. Every failure is a
/// <see cref="ParleyProtocolException"/>, whatever the input bytes are.
/// </remarks>
public sealed class CertificateValidator
{
    private const string What = "user certificate";

    /// <summary>Critical extensions (RFC 5280 4.2) whose meaning this validator checks; any other critical one is refused.</summary>
    private static readonly DerObjectIdentifier[] UnderstoodCriticalExtensions =
    [
        X509Extensions.BasicConstraints,
        X509Extensions.KeyUsage,
        X509Extensions.ExtendedKeyUsage,
        X509Extensions.SubjectAlternativeName,
    ];

    private readonly RootCertificate _root;

    /// <summary>Pins a root certificate given as PEM or DER.</summary>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Malformed"/> if it does not parse; <see cref="ProtocolErrorKind.InvalidSignature"/>
    /// or <see cref="ProtocolErrorKind.UntrustedCertificate"/> if it is not a self-signed Ed25519 CA.
    /// </exception>
    public CertificateValidator(ReadOnlySpan<byte> pinnedRootPemOrDer)
    {
        _root = RootCertificate.Parse(pinnedRootPemOrDer);
    }

    /// <summary>Pins a root certificate given as PEM.</summary>
    /// <exception cref="ParleyProtocolException">As for <see cref="CertificateValidator(ReadOnlySpan{byte})"/>.</exception>
    public CertificateValidator(string pinnedRootPem)
    {
        ArgumentNullException.ThrowIfNull(pinnedRootPem);
        _root = RootCertificate.Parse(pinnedRootPem);
    }

    /// <summary>The SHA-256 fingerprint of the pinned root.</summary>
    public CertificateFingerprint RootFingerprint => _root.Fingerprint;

    /// <summary>Validates a user certificate given as PEM or DER.</summary>
    /// <param name="certificatePemOrDer">The certificate.</param>
    /// <param name="revocationList">The root's current revocation list, or null to skip the revocation check.</param>
    /// <param name="now">The time to validate at.</param>
    /// <returns>The user name and identity key that the certificate binds.</returns>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Malformed"/>: the bytes are not a DER certificate.
    /// <see cref="ProtocolErrorKind.UntrustedCertificate"/>: not issued by the pinned root, or not a user certificate.
    /// <see cref="ProtocolErrorKind.InvalidSignature"/>: the signature does not verify (the certificate was altered), or the
    /// revocation list is from another root.
    /// <see cref="ProtocolErrorKind.CertificateExpired"/>: <paramref name="now"/> is outside the certificate's or the root's validity.
    /// <see cref="ProtocolErrorKind.CertificateRevoked"/>: the serial is on the revocation list.
    /// <see cref="ProtocolErrorKind.InvalidKey"/>: the certified Ed25519 key is not a valid public key.
    /// </exception>
    public ValidatedCertificate Validate(ReadOnlySpan<byte> certificatePemOrDer, RevocationList? revocationList, DateTimeOffset now) =>
        ValidateCore(ParsedCertificate.Decode(certificatePemOrDer, What), revocationList, now);

    /// <summary>Validates a user certificate given as PEM.</summary>
    /// <exception cref="ParleyProtocolException">As for <see cref="Validate(ReadOnlySpan{byte}, RevocationList?, DateTimeOffset)"/>.</exception>
    public ValidatedCertificate Validate(string certificatePem, RevocationList? revocationList, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        return ValidateCore(ParsedCertificate.Decode(certificatePem, What), revocationList, now);
    }

    /// <inheritdoc/>
    public override string ToString() => $"certificate validator pinned to {RootFingerprint}";

    private ValidatedCertificate ValidateCore(ParsedCertificate certificate, RevocationList? revocationList, DateTimeOffset now)
    {
        // Issuer (RFC 5280 6.1.3 (a)(4)): the pinned root by name and, when present, by key identifier
        // (4.2.1.1), so that another CA of the same name is untrusted rather than a bad signature.
        if (!_root.IsIssuerOf(certificate))
        {
            throw Error.UntrustedCertificate("not issued by the pinned CA");
        }

        byte[]? authorityKeyId = AuthorityKeyIdentifierOf(certificate);
        if (authorityKeyId is not null && !authorityKeyId.AsSpan().SequenceEqual(_root.KeyIdentifier))
        {
            throw Error.UntrustedCertificate("not issued by the pinned CA (another authority key)");
        }

        // Signature (6.1.3 (a)(1)), over the bytes as received; only then is the content read.
        if (!certificate.IsSignedBy(_root.PublicKey))
        {
            throw Error.InvalidSignature(What);
        }

        if (!certificate.IsDistinguishedEncoding())
        {
            throw Error.Malformed($"{What} (not DER)");
        }

        try
        {
            return CheckContent(certificate, revocationList, now);
        }
        catch (Exception e) when (e is not ParleyProtocolException)
        {
            // The boundary: an extension the CA signed but BouncyCastle cannot read.
            throw Error.Malformed(What, e);
        }
    }

    private ValidatedCertificate CheckContent(ParsedCertificate certificate, RevocationList? revocationList, DateTimeOffset now)
    {
        // Validity (6.1.3 (a)(2)), of the certificate and of the root it chains to.
        (DateTimeOffset notBefore, DateTimeOffset notAfter) = certificate.Validity();
        CheckValidity(What, notBefore, notAfter, now);
        CheckValidity("CA certificate", _root.NotBefore, _root.NotAfter, now);

        // Profile: an X.509 v3 end entity (4.2.1.9) that signs (4.2.1.3), for client authentication
        // if it says what for (4.2.1.12), with no critical extension it does not understand (4.2).
        X509Extensions? extensions = certificate.Extensions;
        if (certificate.Tbs.Version != 3)
        {
            throw Error.UntrustedCertificate("not an X.509 v3 certificate");
        }

        if (BasicConstraints.FromExtensions(extensions)?.IsCA() == true)
        {
            throw Error.UntrustedCertificate("a CA certificate is not a user certificate");
        }

        if (KeyUsage.FromExtensions(extensions) is not { } usage || (usage.IntValue & KeyUsage.DigitalSignature) == 0)
        {
            throw Error.UntrustedCertificate("the certificate does not allow digital signatures");
        }

        if (ExtendedKeyUsage.FromExtensions(extensions) is { } purposes && !purposes.HasKeyPurposeId(KeyPurposeID.id_kp_clientAuth))
        {
            throw Error.UntrustedCertificate("the certificate is not for client authentication");
        }

        if (extensions is not null && extensions.GetCriticalExtensionOids().Except(UnderstoodCriticalExtensions).Any())
        {
            throw Error.UntrustedCertificate("the certificate has an unsupported critical extension");
        }

        Ed25519PublicKeyParameters identityKey = certificate.Ed25519PublicKey()
            ?? throw Error.UntrustedCertificate("the certificate does not certify an Ed25519 identity key");

        X509Name subject = certificate.Tbs.Subject;
        IList<DerObjectIdentifier> attributes = subject.GetOidList();
        string? userName = attributes.Count == 1 && X509Name.CN.Equals(attributes[0]) ? subject.GetValueList()[0] : null;
        if (!UserNameSyntax.IsValid(userName))
        {
            throw Error.UntrustedCertificate("the subject is not a user name");
        }

        Org.BouncyCastle.Math.BigInteger serial = certificate.Tbs.SerialNumber.Value;
        if (serial.SignValue <= 0)
        {
            throw Error.Malformed($"{What} serial number");
        }

        // Revocation (6.1.3 (a)(3)), against a list that the same root signed.
        string serialHex = SerialNumber.ToHex(serial);
        if (revocationList is not null)
        {
            if (revocationList.IssuerFingerprint != _root.Fingerprint)
            {
                throw Error.InvalidSignature("revocation list (not signed by the pinned CA)");
            }

            if (revocationList.Contains(serialHex))
            {
                throw Error.CertificateRevoked(serialHex);
            }
        }

        return new ValidatedCertificate(userName, identityKey.GetEncoded(), serialHex, notBefore, notAfter);
    }

    private static void CheckValidity(string what, DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now)
    {
        if (now < notBefore)
        {
            throw Error.CertificateNotYetValid(what, notBefore);
        }

        if (now > notAfter)
        {
            throw Error.CertificateExpired(what, notAfter);
        }
    }

    /// <summary>The authority key identifier, or null if absent or unreadable (then the signature check decides).</summary>
    private static byte[]? AuthorityKeyIdentifierOf(ParsedCertificate certificate)
    {
        try
        {
            return AuthorityKeyIdentifier.FromExtensions(certificate.Extensions)?.KeyIdentifier?.GetOctets();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidCastException)
        {
            return null;
        }
    }
}
