using System.Text;
using Org.BouncyCastle.X509;
using Parley.Protocol.Certificates;
using Xunit;
using static Parley.Protocol.Tests.Certificates.CertificateTestData;

namespace Parley.Protocol.Tests.Certificates;

public sealed class RevocationListTests : IDisposable
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    private readonly CertificateAuthority _ca = NewAuthority();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void CreatedListParsesAgainstPinnedRoot()
    {
        RevocationList created = _ca.CreateRevocationList(
            [new RevokedCertificate("0a1b", Now.AddDays(-1)), new RevokedCertificate("FF00FF00FF00FF00FF00FF00FF00FF00", Now)], Now, Week);

        RevocationList fromPem = RevocationList.Parse(created.Pem, _ca.RootCertificatePem);
        RevocationList fromDer = RevocationList.Parse(created.Der.Span, _ca.RootCertificateDer.Span);
        RevocationList fromPemBytes = RevocationList.Parse(Encoding.ASCII.GetBytes(created.Pem), Encoding.ASCII.GetBytes(_ca.RootCertificatePem));

        foreach (RevocationList list in new[] { created, fromPem, fromDer, fromPemBytes })
        {
            Assert.Equal(2, list.Count);
            Assert.True(list.Contains("a1b"));
            Assert.True(list.Contains("000A1B"));
            Assert.True(list.Contains("ff00ff00ff00ff00ff00ff00ff00ff00"));
            Assert.False(list.Contains("a1c"));
            Assert.Equal(Now, list.ThisUpdate);
            Assert.Equal(Now + Week, list.NextUpdate);
            Assert.Equal(_ca.RootFingerprint, list.IssuerFingerprint);
        }

        Assert.StartsWith("-----BEGIN X509 CRL-----\n", created.Pem, StringComparison.Ordinal);
    }

    [Fact]
    public void ListIsAnX509V2CrlWithAuthorityKeyAndNumber()
    {
        RevocationList created = _ca.CreateRevocationList([new RevokedCertificate("1234", Now)], Now, Week);

        X509Crl crl = new X509CrlParser().ReadCrl(created.Der.ToArray());

        Assert.Equal(2, crl.Version);
        Assert.Equal("CN=" + CaName, crl.IssuerDN.ToString());
        Assert.True(crl.IsSignatureValid(new X509CertificateParser().ReadCertificate(_ca.RootCertificateDer.ToArray()).GetPublicKey()));
        Assert.NotNull(crl.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.AuthorityKeyIdentifier));
        Assert.NotNull(crl.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.CrlNumber));
        Assert.Equal("1234", crl.GetRevokedCertificates().Single().SerialNumber.ToString(16));
    }

    [Fact]
    public void EmptyList()
    {
        RevocationList list = RevocationList.Parse(_ca.CreateRevocationList([], Now, Week).Pem, _ca.RootCertificatePem);

        Assert.Equal(0, list.Count);
        Assert.False(list.Contains("01"));
    }

    [Fact]
    public void RepeatedSerialIsListedOnce()
    {
        RevocationList list = _ca.CreateRevocationList([new RevokedCertificate("abc", Now), new RevokedCertificate("0ABC", Now)], Now, Week);

        Assert.Equal(1, list.Count);
    }

    [Fact]
    public void ListSignedByAnotherCa()
    {
        using CertificateAuthority other = NewAuthority("Parley CA elsewhere");
        using CertificateAuthority impostor = NewAuthority(CaName);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => RevocationList.Parse(other.CreateRevocationList([], Now, Week).Pem, _ca.RootCertificatePem));
        AssertKind(ProtocolErrorKind.InvalidSignature, () => RevocationList.Parse(impostor.CreateRevocationList([], Now, Week).Pem, _ca.RootCertificatePem));
    }

    [Fact]
    public void FlippedByteInListSignature()
    {
        RevocationList created = _ca.CreateRevocationList([new RevokedCertificate("1234", Now)], Now, Week);
        byte[] tampered = WithFlippedBit(created.Der, created.Der.Length - 3);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => RevocationList.Parse(tampered, _ca.RootCertificateDer.Span));
    }

    [Fact]
    public void FlippedByteInRevokedSerial()
    {
        RevocationList created = _ca.CreateRevocationList([new RevokedCertificate("123456789abcdef0", Now)], Now, Week);
        int index = IndexOf(created.Der.ToArray(), Convert.FromHexString("123456789abcdef0"));
        byte[] tampered = WithFlippedBit(created.Der, index + 4);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => RevocationList.Parse(tampered, _ca.RootCertificateDer.Span));
    }

    [Fact]
    public void EveryFlippedBitIsRejected()
    {
        byte[] der = _ca.CreateRevocationList([new RevokedCertificate("1234", Now)], Now, Week).Der.ToArray();
        byte[] root = _ca.RootCertificateDer.ToArray();
        for (int index = 0; index < der.Length; index++)
        {
            byte[] tampered = WithFlippedBit(der, index);
            ParleyProtocolException error = Assert.Throws<ParleyProtocolException>(() => RevocationList.Parse(tampered, root));
            Assert.Contains(error.Kind, new[] { ProtocolErrorKind.Malformed, ProtocolErrorKind.InvalidSignature });
        }
    }

    [Fact]
    public void TruncatedList()
    {
        byte[] der = _ca.CreateRevocationList([new RevokedCertificate("1234", Now)], Now, Week).Der.ToArray();
        byte[] root = _ca.RootCertificateDer.ToArray();
        for (int length = 0; length < der.Length; length++)
        {
            byte[] truncated = der[..length];
            AssertKind(ProtocolErrorKind.Malformed, () => RevocationList.Parse(truncated, root));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")]
    public void GarbageList(string text)
    {
        AssertKind(ProtocolErrorKind.Malformed, () => RevocationList.Parse(text, _ca.RootCertificatePem));
        AssertKind(ProtocolErrorKind.Malformed, () => RevocationList.Parse(Encoding.UTF8.GetBytes(text), _ca.RootCertificateDer.Span));
    }

    [Fact]
    public void CertificateIsNotAList()
    {
        IssuedCertificate issued = _ca.IssueUserCertificate("alice", NewIdentityKey(), Now);

        AssertKind(ProtocolErrorKind.Malformed, () => RevocationList.Parse(issued.Der.Span, _ca.RootCertificateDer.Span));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("000")]
    [InlineData("xyz")]
    [InlineData("-12")]
    [InlineData("12 34")]
    [InlineData("01234567890123456789012345678901234567890")]
    public void BadSerialHex(string text)
    {
        RevocationList list = _ca.CreateRevocationList([], Now, Week);

        Assert.Throws<ArgumentException>("serialHex", () => new RevokedCertificate(text, Now));
        Assert.Throws<ArgumentException>("serialHex", () => list.Contains(text));
    }

    [Fact]
    public void BadValidity()
    {
        Assert.Throws<ArgumentOutOfRangeException>("validity", () => _ca.CreateRevocationList([], Now, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>("validity", () => _ca.CreateRevocationList([], Now, TimeSpan.FromDays(400)));
        Assert.Throws<ArgumentException>("revoked", () => _ca.CreateRevocationList([null!], Now, Week));
    }
}
