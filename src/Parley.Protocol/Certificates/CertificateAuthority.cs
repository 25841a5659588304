using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// An Ed25519 certificate authority (RFC 8410): a self-signed root that binds user names to
/// Ed25519 identity keys, signs the server's TLS certificate and publishes revocation lists.
/// Everything it signs verifies with <c>openssl verify</c>.
/// </summary>
/// <remarks>
/// The private key is kept as a pinned 32-byte seed and wiped by <see cref="Dispose"/>; it leaves
/// the object only through <see cref="ExportPrivateKeyPem"/>. BouncyCastle's transient key objects
/// made for each signature cannot be wiped and are left to the garbage collector. Issuing and
/// exporting may run on several threads at once; <see cref="Dispose"/> must not race them.
/// </remarks>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>The signature algorithm name BouncyCastle's <see cref="Asn1SignatureFactory"/> knows (RFC 8410 3).</summary>
    private const string SignatureAlgorithm = "Ed25519";

    /// <summary>Upper bound of a PKCS#8 Ed25519 key, with room for the optional public key and attributes.</summary>
    private const int MaxPrivateKeyBytes = 1024;

    private const int MaxHostNameLength = 253;
    private const int MaxHostLabelLength = 63;

    private readonly RootCertificate _root;
    private readonly byte[] _seed;
    private bool _disposed;

    private CertificateAuthority(RootCertificate root, byte[] seed)
    {
        _root = root;
        _seed = seed;
    }

    /// <summary>The authority's name: the root certificate's CN.</summary>
    public string Name => CommonNameOf(_root.Subject) ?? string.Empty;

    /// <summary>The root certificate as PEM: what clients pin and what <c>/ca.pem</c> serves.</summary>
    public string RootCertificatePem => _root.Pem;

    /// <summary>The root certificate's DER encoding.</summary>
    public ReadOnlyMemory<byte> RootCertificateDer => _root.Der;

    /// <summary>The SHA-256 fingerprint of the root certificate.</summary>
    public CertificateFingerprint RootFingerprint => _root.Fingerprint;

    /// <summary>End of the root certificate's validity; nothing is issued beyond it.</summary>
    public DateTimeOffset NotAfter => _root.NotAfter;

    /// <summary>
    /// Makes a new authority with a fresh Ed25519 key and a self-signed X.509 v3 root, valid for
    /// ten years from <paramref name="now"/> (backdated five minutes for clock skew).
    /// </summary>
    /// <param name="caName">The root's common name, e.g. <c>Parley CA localhost</c>: 1 to 64 characters, no control characters.</param>
    /// <param name="now">The current time.</param>
    /// <exception cref="ArgumentException"><paramref name="caName"/> is not a usable name.</exception>
    public static CertificateAuthority Create(string caName, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(caName)
            || caName.Length > CertificateProfile.MaxCommonNameLength
            || caName.Any(char.IsControl)
            || caName.Trim().Length != caName.Length)
        {
            throw new ArgumentException("expected a CA name of 1 to 64 characters without control characters or surrounding spaces", nameof(caName));
        }

        byte[] seed = GC.AllocateArray<byte>(CertificateProfile.Ed25519SeedBytes, pinned: true);
        try
        {
            RandomNumberGenerator.Fill(seed);
            var key = new Ed25519PrivateKeyParameters(seed);
            SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.GeneratePublicKey());
            X509Name name = CommonName(caName);

            // RFC 5280 4.2.1.9 and 4.2.1.3: a CA that signs end-entity certificates and CRLs only.
            var generator = new X509V3CertificateGenerator();
            generator.SetSerialNumber(SerialNumber.NewRandom());
            generator.SetIssuerDN(name);
            generator.SetSubjectDN(name);
            generator.SetNotBefore(WholeSeconds(now - CertificateProfile.ClockSkew).UtcDateTime);
            generator.SetNotAfter(WholeSeconds(now.AddYears(CertificateProfile.RootValidityYears)).UtcDateTime);
            generator.SetSubjectPublicKeyInfo(publicKey);
            generator.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(0));
            generator.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.KeyCertSign | KeyUsage.CrlSign));
            generator.AddExtension(X509Extensions.SubjectKeyIdentifier, false, X509ExtensionUtilities.CreateSubjectKeyIdentifier(publicKey));
            X509Certificate certificate = generator.Generate(new Asn1SignatureFactory(SignatureAlgorithm, key));

            return new CertificateAuthority(RootCertificate.FromDer(certificate.GetEncoded()), seed);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(seed);
            throw;
        }
    }

    /// <summary>
    /// Loads an authority saved with <see cref="RootCertificatePem"/> and <see cref="ExportPrivateKeyPem"/>,
    /// checking that the key is the one the certificate certifies.
    /// </summary>
    /// <param name="certificatePem">The root certificate (<c>-----BEGIN CERTIFICATE-----</c>).</param>
    /// <param name="privateKeyPem">The Ed25519 private key as unencrypted PKCS#8 (<c>-----BEGIN PRIVATE KEY-----</c>).</param>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Malformed"/> if either does not parse;
    /// <see cref="ProtocolErrorKind.InvalidSignature"/> or <see cref="ProtocolErrorKind.UntrustedCertificate"/> if the
    /// certificate is not a self-signed Ed25519 CA; <see cref="ProtocolErrorKind.InvalidKey"/> if the key is not
    /// Ed25519 or does not match the certificate.
    /// </exception>
    public static CertificateAuthority Load(string certificatePem, string privateKeyPem)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(privateKeyPem);

        RootCertificate root = RootCertificate.Parse(certificatePem);
        byte[] der = Pem.DecodePem(privateKeyPem, CertificateProfile.PrivateKeyLabel, MaxPrivateKeyBytes, "CA private key");
        byte[] seed = GC.AllocateArray<byte>(CertificateProfile.Ed25519SeedBytes, pinned: true);
        try
        {
            AsymmetricKeyParameter key;
            try
            {
                key = PrivateKeyFactory.CreateKey(der);
            }
            catch (Exception e) when (e is not ParleyProtocolException)
            {
                // The boundary: BouncyCastle's parse errors become one kind. Its messages name no key bytes.
                throw Error.Malformed("CA private key", e);
            }

            if (key is not Ed25519PrivateKeyParameters signingKey)
            {
                throw Error.InvalidKey("CA private key (not Ed25519)");
            }

            signingKey.Encode(seed);
            if (!CryptographicOperations.FixedTimeEquals(signingKey.GeneratePublicKey().GetEncoded(), root.PublicKey.GetEncoded()))
            {
                throw Error.InvalidKey("CA private key (it does not match the CA certificate)");
            }

            return new CertificateAuthority(root, seed);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(seed);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>
    /// Issues a user certificate binding <paramref name="userName"/> (the CN) to an Ed25519
    /// identity key: X.509 v3, random 128-bit serial, valid one year from <paramref name="now"/>
    /// (backdated five minutes), an end entity for digital signatures and TLS client authentication.
    /// </summary>
    /// <param name="userName">1 to 32 characters of a-z, 0-9, '.', '_', '-', starting with a letter; case-fold first.</param>
    /// <param name="identityKey">The user's raw 32-byte Ed25519 public key (RFC 8032 5.1.5).</param>
    /// <param name="now">The current time.</param>
    /// <exception cref="ArgumentException">The name or the key is not valid.</exception>
    /// <exception cref="InvalidOperationException">The root certificate is not valid at <paramref name="now"/>.</exception>
    /// <exception cref="ObjectDisposedException">The authority was disposed.</exception>
    public IssuedCertificate IssueUserCertificate(string userName, ReadOnlySpan<byte> identityKey, DateTimeOffset now)
    {
        if (!UserNameSyntax.IsValid(userName))
        {
            throw new ArgumentException("expected a user name of 1 to 32 characters a-z, 0-9, '.', '_', '-', starting with a letter", nameof(userName));
        }

        if (identityKey.Length != CertificateProfile.Ed25519PublicKeyBytes)
        {
            throw new ArgumentException("expected a 32-byte Ed25519 public key", nameof(identityKey));
        }

        Ed25519PublicKeyParameters publicKey;
        try
        {
            publicKey = new Ed25519PublicKeyParameters(identityKey);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("expected an Ed25519 public key that is a point on the curve", nameof(identityKey), e);
        }

        // RFC 5280 4.2.1.3, 4.2.1.9, 4.2.1.12: an end entity that signs, for TLS client authentication.
        return Issue(
            userName,
            SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(publicKey),
            KeyPurposeID.id_kp_clientAuth,
            subjectAlternativeNames: null,
            now);
    }

    /// <summary>
    /// Issues a TLS server certificate for an ECDSA P-256 key (e.g. from
    /// <c>ECDsa.ExportSubjectPublicKeyInfo()</c>), naming the server's DNS names and IP
    /// addresses (subjectAltName), for TLS server authentication, valid one year.
    /// </summary>
    /// <param name="subjectPublicKeyInfo">The server key as a DER SubjectPublicKeyInfo (RFC 5480) on the named curve P-256.</param>
    /// <param name="dnsNames">Host names such as <c>localhost</c> or <c>chat.example.org</c>; the first is also the CN.</param>
    /// <param name="ipAddresses">IP addresses; the first is the CN if there is no host name.</param>
    /// <param name="now">The current time.</param>
    /// <exception cref="ArgumentException">The key is not an ECDSA P-256 public key, a host name is not valid, or there is no name at all.</exception>
    /// <exception cref="InvalidOperationException">The root certificate is not valid at <paramref name="now"/>.</exception>
    /// <exception cref="ObjectDisposedException">The authority was disposed.</exception>
    public IssuedCertificate IssueServerCertificate(
        ReadOnlySpan<byte> subjectPublicKeyInfo,
        IEnumerable<string> dnsNames,
        IEnumerable<IPAddress> ipAddresses,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        ArgumentNullException.ThrowIfNull(ipAddresses);
        SubjectPublicKeyInfo publicKey = ReadP256PublicKey(subjectPublicKeyInfo, nameof(subjectPublicKeyInfo));

        var hosts = new List<string>();
        foreach (string? dnsName in dnsNames)
        {
            if (!IsHostName(dnsName))
            {
                throw new ArgumentException("expected DNS host names (letters, digits and '-' in dot-separated labels)", nameof(dnsNames));
            }

            hosts.Add(dnsName.ToLowerInvariant());
        }

        var addresses = new List<IPAddress>();
        foreach (IPAddress? address in ipAddresses)
        {
            if (address is null || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException("expected IPv4 or IPv6 addresses", nameof(ipAddresses));
            }

            addresses.Add(address);
        }

        if (hosts.Count == 0 && addresses.Count == 0)
        {
            throw new ArgumentException("a server certificate needs at least one DNS name or IP address", nameof(dnsNames));
        }

        // RFC 5280 4.2.1.6: iPAddress is the address in network byte order.
        GeneralName[] alternativeNames =
        [
            .. hosts.Select(host => new GeneralName(GeneralName.DnsName, host)),
            .. addresses.Select(address => new GeneralName(GeneralName.IPAddress, new DerOctetString(address.GetAddressBytes()))),
        ];

        string commonName = hosts.Count > 0 ? hosts[0] : addresses[0].ToString();
        return Issue(commonName, publicKey, KeyPurposeID.id_kp_serverAuth, new GeneralNames(alternativeNames), now);
    }

    /// <summary>
    /// Signs a revocation list (X.509 v2 CRL, RFC 5280 5) of <paramref name="revoked"/>, issued at
    /// <paramref name="now"/> and due for renewal after <paramref name="validity"/>.
    /// </summary>
    /// <param name="revoked">The revoked certificates; a serial listed twice appears once.</param>
    /// <param name="now">The current time: thisUpdate, and the CRL number (seconds since 1970).</param>
    /// <param name="validity">Time until nextUpdate: more than zero, at most 366 days.</param>
    /// <exception cref="ArgumentException">An entry is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validity"/> is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The authority was disposed.</exception>
    public RevocationList CreateRevocationList(IEnumerable<RevokedCertificate> revoked, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(validity, CertificateProfile.MaxRevocationListValidity);
        ObjectDisposedException.ThrowIf(_disposed, this);

        DateTimeOffset thisUpdate = WholeSeconds(now);
        var generator = new X509V2CrlGenerator();
        generator.SetIssuerDN(_root.Subject);
        generator.SetThisUpdate(thisUpdate.UtcDateTime);
        generator.SetNextUpdate(WholeSeconds(now + validity).UtcDateTime);

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (RevokedCertificate? entry in revoked)
        {
            if (entry is null)
            {
                throw new ArgumentException("a revoked certificate entry is null", nameof(revoked));
            }

            if (listed.Add(entry.SerialHex))
            {
                // Reason 0 (unspecified) is encoded by omitting the reasonCode extension (RFC 5280 5.3.1).
                generator.AddCrlEntry(new BigInteger(entry.SerialHex, 16), WholeSeconds(entry.RevokedAt).UtcDateTime, CrlReason.Unspecified);
            }
        }

        // RFC 5280 5.2.1 and 5.2.3: conforming CRLs carry the authority key identifier and a CRL number.
        generator.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(_root.KeyIdentifier));
        generator.AddExtension(X509Extensions.CrlNumber, false, new CrlNumber(BigInteger.ValueOf(thisUpdate.ToUnixTimeSeconds())));

        X509Crl crl = generator.Generate(SignatureFactory());
        return RevocationList.FromDer(crl.GetEncoded(), _root);
    }

    /// <summary>
    /// The private key as unencrypted PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>, RFC 8410 7),
    /// for the server to store with owner-only permissions.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The authority was disposed.</exception>
    public string ExportPrivateKeyPem()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // RFC 8410 7: version 1 (v1, encoded 0) with CurvePrivateKey ::= OCTET STRING, no public key.
        // BouncyCastle's factory writes the v2 form with the public key, which OpenSSL 3.0 cannot read.
        var info = new PrivateKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), new DerOctetString(_seed));
        byte[] der = info.GetEncoded(Asn1Encodable.Der);
        try
        {
            return Pem.Encode(CertificateProfile.PrivateKeyLabel, der);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Wipes the private key; issuing and exporting fail afterwards.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_seed);
        _disposed = true;
    }

    /// <summary>The name and root fingerprint; never key material.</summary>
    public override string ToString() => $"certificate authority CN={Name} {RootFingerprint}";

    private IssuedCertificate Issue(
        string commonName,
        SubjectPublicKeyInfo publicKey,
        KeyPurposeID purpose,
        GeneralNames? subjectAlternativeNames,
        DateTimeOffset now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (now < _root.NotBefore || now > _root.NotAfter)
        {
            throw new InvalidOperationException("the CA certificate is not valid at the given time");
        }

        DateTimeOffset notBefore = WholeSeconds(now - CertificateProfile.ClockSkew);
        DateTimeOffset notAfter = WholeSeconds(now.AddYears(CertificateProfile.LeafValidityYears));
        if (notAfter > _root.NotAfter)
        {
            notAfter = _root.NotAfter;
        }

        BigInteger serial = SerialNumber.NewRandom();
        var generator = new X509V3CertificateGenerator();
        generator.SetSerialNumber(serial);
        generator.SetIssuerDN(_root.Subject);
        generator.SetSubjectDN(CommonName(commonName));
        generator.SetNotBefore(notBefore.UtcDateTime);
        generator.SetNotAfter(notAfter.UtcDateTime);
        generator.SetSubjectPublicKeyInfo(publicKey);
        generator.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
        generator.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature));
        generator.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        if (subjectAlternativeNames is not null)
        {
            generator.AddExtension(X509Extensions.SubjectAlternativeName, false, subjectAlternativeNames);
        }

        generator.AddExtension(X509Extensions.SubjectKeyIdentifier, false, X509ExtensionUtilities.CreateSubjectKeyIdentifier(publicKey));
        generator.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(_root.KeyIdentifier));

        X509Certificate certificate = generator.Generate(SignatureFactory());
        return new IssuedCertificate(certificate.GetEncoded(), commonName, SerialNumber.ToHex(serial), notBefore, notAfter);
    }

    private Asn1SignatureFactory SignatureFactory() =>
        new(SignatureAlgorithm, new Ed25519PrivateKeyParameters(_seed));

    private static SubjectPublicKeyInfo ReadP256PublicKey(ReadOnlySpan<byte> der, string paramName)
    {
        const string Expected = "expected an ECDSA P-256 public key as a DER SubjectPublicKeyInfo";
        SubjectPublicKeyInfo? info;
        try
        {
            info = der.IsEmpty ? null : SubjectPublicKeyInfo.GetInstance(Asn1Object.FromByteArray(der.ToArray()));
            if (info is not null)
            {
                _ = PublicKeyFactory.CreateKey(info); // checks that the point is on the curve
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The boundary: whatever BouncyCastle throws for bytes that are not a public key.
            throw new ArgumentException(Expected, paramName, e);
        }

        // RFC 5480 2.1.1: id-ecPublicKey with the namedCurve secp256r1.
        if (info is null
            || !X9ObjectIdentifiers.IdECPublicKey.Equals(info.Algorithm.Algorithm)
            || !SecObjectIdentifiers.SecP256r1.Equals(info.Algorithm.Parameters))
        {
            throw new ArgumentException(Expected, paramName);
        }

        return info;
    }

    private static bool IsHostName([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxHostNameLength)
        {
            return false;
        }

        foreach (string label in name.Split('.'))
        {
            if (label.Length is 0 or > MaxHostLabelLength
                || label[0] == '-'
                || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A name of one CN attribute as a UTF8String (RFC 5280 4.1.2.4), built directly so no text is reinterpreted.</summary>
    private static X509Name CommonName(string value) =>
        X509Name.GetInstance(new DerSequence(new DerSet(new DerSequence(X509Name.CN, new DerUtf8String(value)))));

    private static string? CommonNameOf(X509Name name)
    {
        IList<string> values = name.GetValueList(X509Name.CN);
        return values.Count == 1 ? values[0] : null;
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
