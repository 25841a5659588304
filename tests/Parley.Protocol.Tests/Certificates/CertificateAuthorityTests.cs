using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using Parley.Protocol.Certificates;
using Xunit;
using static Parley.Protocol.Tests.Certificates.CertificateTestData;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace Parley.Protocol.Tests.Certificates;

public class CertificateAuthorityTests
{
    private static BcCertificate Read(ReadOnlyMemory<byte> der) => new X509CertificateParser().ReadCertificate(der.ToArray());

    private static byte[] KeyIdentifierOf(BcCertificate certificate) =>
        SubjectKeyIdentifier.FromExtensions(certificate.CertificateStructure.TbsCertificate.Extensions).GetKeyIdentifier();

    private static bool IsCritical(BcCertificate certificate, DerObjectIdentifier oid) =>
        certificate.CertificateStructure.TbsCertificate.Extensions.GetExtension(oid).IsCritical;

    [Fact]
    public void CreateMakesSelfSignedEd25519Root()
    {
        using CertificateAuthority ca = NewAuthority();
        BcCertificate root = Read(ca.RootCertificateDer);

        Assert.Equal(3, root.Version);
        Assert.Equal("CN=" + CaName, root.SubjectDN.ToString());
        Assert.Equal(root.SubjectDN.ToString(), root.IssuerDN.ToString());
        Assert.Equal("Ed25519", root.SigAlgName, ignoreCase: true);
        Assert.True(root.IsSignatureValid(root.GetPublicKey()));
        Assert.True(root.GetBasicConstraints() >= 0);
        Assert.True(IsCritical(root, X509Extensions.BasicConstraints));
        Assert.True(IsCritical(root, X509Extensions.KeyUsage));
        bool[] usage = root.GetKeyUsage();
        Assert.True(usage[5] && usage[6]); // keyCertSign, cRLSign (RFC 5280 4.2.1.3)
        Assert.False(usage[0]);
        Assert.NotEmpty(KeyIdentifierOf(root));
        Assert.True(root.SerialNumber.SignValue > 0 && root.SerialNumber.BitLength <= 128);
        Assert.Equal(Now - TimeSpan.FromMinutes(5), new DateTimeOffset(root.NotBefore, TimeSpan.Zero));
        Assert.Equal(Now.AddYears(10), new DateTimeOffset(root.NotAfter, TimeSpan.Zero));
        Assert.Equal(Now.AddYears(10), ca.NotAfter);
        Assert.Equal(CaName, ca.Name);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", ca.RootCertificatePem, StringComparison.Ordinal);
    }

    [Fact]
    public void RootFingerprintIsSha256OfRootDer()
    {
        using CertificateAuthority ca = NewAuthority();
        byte[] hash = SHA256.HashData(ca.RootCertificateDer.Span);

        Assert.Equal(Convert.ToHexStringLower(hash), ca.RootFingerprint.Hex);
        Assert.Equal("SHA256:" + BitConverter.ToString(hash).Replace('-', ':'), ca.RootFingerprint.Formatted);
        Assert.Equal(ca.RootFingerprint.Formatted, ca.RootFingerprint.ToString());
        Assert.Equal(ca.RootFingerprint, CertificateFingerprint.Parse(ca.RootFingerprint.Formatted));
        Assert.Equal(ca.RootFingerprint, CertificateFingerprint.Parse(ca.RootFingerprint.Hex.ToUpperInvariant()));
        Assert.True(ca.RootFingerprint == CertificateFingerprint.Parse(ca.RootFingerprint.Formatted.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("SHA256:AB:CD")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public void FingerprintParseWithBadText(string text)
    {
        Assert.False(CertificateFingerprint.TryParse(text, out _));
        Assert.Throws<FormatException>(() => CertificateFingerprint.Parse(text));
    }

    [Fact]
    public void IssuedUserCertificateHasProfile()
    {
        using CertificateAuthority ca = NewAuthority();
        byte[] identityKey = NewIdentityKey();

        IssuedCertificate issued = ca.IssueUserCertificate("alice", identityKey, Now);
        BcCertificate certificate = Read(issued.Der);
        BcCertificate root = Read(ca.RootCertificateDer);

        Assert.Equal(3, certificate.Version);
        Assert.Equal("CN=alice", certificate.SubjectDN.ToString());
        Assert.Equal("CN=" + CaName, certificate.IssuerDN.ToString());
        Assert.True(certificate.IsSignatureValid(root.GetPublicKey()));
        Assert.Equal(identityKey, certificate.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetOctets());
        Assert.Equal(issued.SerialHex, certificate.SerialNumber.ToString(16));
        Assert.True(certificate.SerialNumber.SignValue > 0 && certificate.SerialNumber.BitLength <= 128);
        Assert.Equal(Now - TimeSpan.FromMinutes(5), new DateTimeOffset(certificate.NotBefore, TimeSpan.Zero));
        Assert.Equal(Now.AddYears(1), new DateTimeOffset(certificate.NotAfter, TimeSpan.Zero));
        Assert.Equal(Now.AddYears(1), issued.NotAfter);
        Assert.Equal(Now - TimeSpan.FromMinutes(5), issued.NotBefore);
        Assert.Equal(-1, certificate.GetBasicConstraints());
        Assert.True(IsCritical(certificate, X509Extensions.BasicConstraints));
        Assert.True(IsCritical(certificate, X509Extensions.KeyUsage));
        Assert.Equal([true, false, false, false, false, false, false, false, false], certificate.GetKeyUsage());
        Assert.Equal([KeyPurposeID.id_kp_clientAuth.Id], certificate.GetExtendedKeyUsage().Select(oid => oid.Id));
        Assert.NotEmpty(KeyIdentifierOf(certificate));
        byte[] authorityKeyId = AuthorityKeyIdentifier.FromExtensions(certificate.CertificateStructure.TbsCertificate.Extensions).KeyIdentifier.GetOctets();
        Assert.Equal(KeyIdentifierOf(root), authorityKeyId);
        Assert.Equal("alice", issued.Subject);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", issued.Pem, StringComparison.Ordinal);
    }

    [Fact]
    public void IssuedSerialsAreDistinct()
    {
        using CertificateAuthority ca = NewAuthority();
        byte[] identityKey = NewIdentityKey();

        var serials = Enumerable.Range(0, 64).Select(_ => ca.IssueUserCertificate("alice", identityKey, Now).SerialHex).ToHashSet();

        Assert.Equal(64, serials.Count);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("alice")]
    [InlineData("bob.smith_2-x")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void IssueUserCertificateWithGoodName(string name)
    {
        using CertificateAuthority ca = NewAuthority();

        Assert.Equal(name, ca.IssueUserCertificate(name, NewIdentityKey(), Now).Subject);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alice")]
    [InlineData("1alice")]
    [InlineData(".alice")]
    [InlineData("_alice")]
    [InlineData("-alice")]
    [InlineData("al ice")]
    [InlineData("alice@example")]
    [InlineData("al,CN=root")]
    [InlineData("älice")]
    [InlineData("alice\n")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void IssueUserCertificateWithBadName(string name)
    {
        using CertificateAuthority ca = NewAuthority();

        Assert.Throws<ArgumentException>("userName", () => ca.IssueUserCertificate(name, NewIdentityKey(), Now));
    }

    [Fact]
    public void IssueUserCertificateWithNullName()
    {
        using CertificateAuthority ca = NewAuthority();

        Assert.Throws<ArgumentException>("userName", () => ca.IssueUserCertificate(null!, NewIdentityKey(), Now));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void IssueUserCertificateWithBadKeyLength(int length)
    {
        using CertificateAuthority ca = NewAuthority();

        Assert.Throws<ArgumentException>("identityKey", () => ca.IssueUserCertificate("alice", new byte[length], Now));
    }

    [Fact]
    public void IssueUserCertificateWithKeyNotOnCurve()
    {
        using CertificateAuthority ca = NewAuthority();
        byte[] notAPoint = NotACurvePoint();

        Assert.Throws<ArgumentException>("identityKey", () => ca.IssueUserCertificate("alice", notAPoint, Now));
    }

    [Fact]
    public void IssueOutsideRootValidity()
    {
        using CertificateAuthority ca = NewAuthority();

        Assert.Throws<InvalidOperationException>(() => ca.IssueUserCertificate("alice", NewIdentityKey(), Now.AddYears(11)));
        Assert.Throws<InvalidOperationException>(() => ca.IssueUserCertificate("alice", NewIdentityKey(), Now.AddHours(-1)));
    }

    [Fact]
    public void IssuedCertificateNeverOutlivesRoot()
    {
        using CertificateAuthority ca = NewAuthority();

        IssuedCertificate issued = ca.IssueUserCertificate("alice", NewIdentityKey(), ca.NotAfter.AddDays(-30));

        Assert.Equal(ca.NotAfter, issued.NotAfter);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" Parley")]
    [InlineData("Parley\nCA")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public void CreateWithBadCaName(string name)
    {
        Assert.Throws<ArgumentException>("caName", () => CertificateAuthority.Create(name, Now));
    }

    [Fact]
    public void CaNameIsTakenLiterally()
    {
        using CertificateAuthority ca = CertificateAuthority.Create("#3000, O=Evil", Now);

        Assert.Equal("#3000, O=Evil", ca.Name);
        Assert.Single(Read(ca.RootCertificateDer).SubjectDN.GetOidList());
    }

    [Fact]
    public void ExportAndLoadRoundTrip()
    {
        using CertificateAuthority original = NewAuthority();
        string keyPem = original.ExportPrivateKeyPem();

        using CertificateAuthority loaded = CertificateAuthority.Load(original.RootCertificatePem, keyPem);
        IssuedCertificate issued = loaded.IssueUserCertificate("alice", NewIdentityKey(), Now);

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", keyPem, StringComparison.Ordinal);
        Assert.EndsWith("-----END PRIVATE KEY-----\n", keyPem, StringComparison.Ordinal);
        Assert.Equal(original.RootFingerprint, loaded.RootFingerprint);
        Assert.Equal(original.RootCertificatePem, loaded.RootCertificatePem);
        Assert.Equal(keyPem, loaded.ExportPrivateKeyPem());
        Assert.Equal("alice", new CertificateValidator(original.RootCertificatePem).Validate(issued.Pem, null, Now).UserName);
    }

    [Fact]
    public void LoadWithKeyOfAnotherCa()
    {
        using CertificateAuthority ca = NewAuthority();
        using CertificateAuthority other = NewAuthority();

        ParleyProtocolException error = AssertKind(ProtocolErrorKind.InvalidKey, () => CertificateAuthority.Load(ca.RootCertificatePem, other.ExportPrivateKeyPem()));

        Assert.DoesNotContain(PemBody(other.ExportPrivateKeyPem()), error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadWithNonEd25519Key()
    {
        using CertificateAuthority ca = NewAuthority();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        AssertKind(ProtocolErrorKind.InvalidKey, () => CertificateAuthority.Load(ca.RootCertificatePem, ecdsa.ExportPkcs8PrivateKeyPem()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a key")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n")]
    public void LoadWithGarbageKey(string keyPem)
    {
        using CertificateAuthority ca = NewAuthority();

        AssertKind(ProtocolErrorKind.Malformed, () => CertificateAuthority.Load(ca.RootCertificatePem, keyPem));
    }

    [Fact]
    public void LoadWithGarbageCertificate()
    {
        using CertificateAuthority ca = NewAuthority();

        AssertKind(ProtocolErrorKind.Malformed, () => CertificateAuthority.Load("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", ca.ExportPrivateKeyPem()));
        AssertKind(ProtocolErrorKind.Malformed, () => CertificateAuthority.Load(ca.ExportPrivateKeyPem(), ca.ExportPrivateKeyPem()));
    }

    [Fact]
    public void LoadWithUserCertificateAsRoot()
    {
        using CertificateAuthority ca = NewAuthority();
        IssuedCertificate issued = ca.IssueUserCertificate("alice", NewIdentityKey(), Now);

        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => CertificateAuthority.Load(issued.Pem, ca.ExportPrivateKeyPem()));
    }

    [Fact]
    public void PrivateKeyNeverInToString()
    {
        using CertificateAuthority ca = NewAuthority();
        string body = PemBody(ca.ExportPrivateKeyPem());
        byte[] seed = Convert.FromBase64String(body)[^32..];

        string text = ca.ToString();

        Assert.DoesNotContain(body, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(seed), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(seed), text, StringComparison.Ordinal);
        Assert.Contains(CaName, text, StringComparison.Ordinal);
    }

    [Fact]
    public void DisposedAuthorityRefusesToSign()
    {
        CertificateAuthority ca = NewAuthority();
        ca.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ca.IssueUserCertificate("alice", NewIdentityKey(), Now));
        Assert.Throws<ObjectDisposedException>(() => ca.ExportPrivateKeyPem());
        Assert.Throws<ObjectDisposedException>(() => ca.CreateRevocationList([], Now, TimeSpan.FromDays(7)));
        Assert.NotEmpty(ca.RootCertificatePem);
    }

    [Fact]
    public void ServerCertificateWorksWithX509Certificate2AndPrivateKey()
    {
        using CertificateAuthority ca = NewAuthority();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        IssuedCertificate issued = ca.IssueServerCertificate(
            key.ExportSubjectPublicKeyInfo(), ["localhost", "Chat.Example.org"], [IPAddress.Loopback, IPAddress.IPv6Loopback], Now);
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(issued.Der.Span);
        using X509Certificate2 withKey = publicOnly.CopyWithPrivateKey(key);

        Assert.True(withKey.HasPrivateKey);
        Assert.Equal("CN=localhost", withKey.Subject);
        Assert.Equal("CN=" + CaName, withKey.Issuer);
        var names = withKey.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost", "chat.example.org"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
        var purposes = withKey.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], purposes.EnhancedKeyUsages.Cast<Oid>().Select(oid => oid.Value));
        var usage = withKey.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, usage.KeyUsages);
        Assert.True(usage.Critical);
        Assert.False(withKey.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.True(Read(issued.Der).IsSignatureValid(Read(ca.RootCertificateDer).GetPublicKey()));
    }

    [Fact]
    public void ServerCertificateWithOnlyAnAddress()
    {
        using CertificateAuthority ca = NewAuthority();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        IssuedCertificate issued = ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), [], [IPAddress.Parse("10.0.0.7")], Now);

        Assert.Equal("10.0.0.7", issued.Subject);
    }

    [Fact]
    public void ServerCertificateWithWrongKeyType()
    {
        using CertificateAuthority ca = NewAuthority();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);

        Assert.Throws<ArgumentException>("subjectPublicKeyInfo", () => ca.IssueServerCertificate(p384.ExportSubjectPublicKeyInfo(), ["localhost"], [], Now));
        Assert.Throws<ArgumentException>("subjectPublicKeyInfo", () => ca.IssueServerCertificate(rsa.ExportSubjectPublicKeyInfo(), ["localhost"], [], Now));
        Assert.Throws<ArgumentException>("subjectPublicKeyInfo", () => ca.IssueServerCertificate(new byte[] { 0x30, 0x03, 0x01 }, ["localhost"], [], Now));
        Assert.Throws<ArgumentException>("subjectPublicKeyInfo", () => ca.IssueServerCertificate([], ["localhost"], [], Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("local host")]
    [InlineData("-localhost")]
    [InlineData("localhost-")]
    [InlineData("a..b")]
    [InlineData("*.example.org")]
    [InlineData("exämple.org")]
    public void ServerCertificateWithBadDnsName(string name)
    {
        using CertificateAuthority ca = NewAuthority();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ArgumentException>("dnsNames", () => ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), [name], [], Now));
    }

    [Fact]
    public void ServerCertificateWithoutNames()
    {
        using CertificateAuthority ca = NewAuthority();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ArgumentException>("dnsNames", () => ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), [], [], Now));
    }

    /// <summary>A 32-byte string that does not decode as an edwards25519 point (RFC 8032 5.1.3): about half of all y do not.</summary>
    private static byte[] NotACurvePoint()
    {
        for (byte y = 2; ; y++)
        {
            byte[] candidate = new byte[32];
            candidate[0] = y;
            try
            {
                _ = new Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters(candidate);
            }
            catch (ArgumentException)
            {
                return candidate;
            }
        }
    }

    private static string PemBody(string pem) =>
        string.Concat(pem.Split('\n').Where(line => line.Length > 0 && !line.StartsWith("-----", StringComparison.Ordinal)));
}
