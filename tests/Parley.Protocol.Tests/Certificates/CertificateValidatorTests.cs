using System.Net;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using Parley.Protocol.Certificates;
using Xunit;
using static Parley.Protocol.Tests.Certificates.CertificateTestData;

namespace Parley.Protocol.Tests.Certificates;

public sealed class CertificateValidatorTests : IDisposable
{
    private readonly CertificateAuthority _ca = NewAuthority();
    private readonly byte[] _identityKey = NewIdentityKey();
    private readonly IssuedCertificate _alice;
    private readonly CertificateValidator _validator;

    public CertificateValidatorTests()
    {
        _alice = _ca.IssueUserCertificate("alice", _identityKey, Now);
        _validator = new CertificateValidator(_ca.RootCertificatePem);
    }

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void ValidUserCertificateValidates()
    {
        ValidatedCertificate result = _validator.Validate(_alice.Pem, null, Now);

        Assert.Equal("alice", result.UserName);
        Assert.Equal(_identityKey, result.IdentityKey.ToArray());
        Assert.Equal(_alice.SerialHex, result.SerialHex);
        Assert.Equal(_alice.NotBefore, result.NotBefore);
        Assert.Equal(_alice.NotAfter, result.NotAfter);
    }

    [Fact]
    public void ValidUserCertificateValidatesFromDerAndPemBytes()
    {
        Assert.Equal("alice", _validator.Validate(_alice.Der.Span, null, Now).UserName);
        Assert.Equal("alice", _validator.Validate(Encoding.ASCII.GetBytes(_alice.Pem), null, Now).UserName);
    }

    [Fact]
    public void ValidatorPinsRootFromDer()
    {
        var validator = new CertificateValidator(_ca.RootCertificateDer.Span);

        Assert.Equal(_ca.RootFingerprint, validator.RootFingerprint);
        Assert.Equal("alice", validator.Validate(_alice.Der.Span, null, Now).UserName);
    }

    [Fact]
    public void ValidAtBothEndsOfValidity()
    {
        Assert.Equal("alice", _validator.Validate(_alice.Pem, null, _alice.NotBefore).UserName);
        Assert.Equal("alice", _validator.Validate(_alice.Pem, null, _alice.NotAfter).UserName);
    }

    [Fact]
    public void CertificateFromAnotherCa()
    {
        using CertificateAuthority other = NewAuthority("Parley CA elsewhere");
        IssuedCertificate foreign = other.IssueUserCertificate("alice", _identityKey, Now);

        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _validator.Validate(foreign.Pem, null, Now));
    }

    [Fact]
    public void CertificateFromAnotherCaWithTheSameName()
    {
        using CertificateAuthority impostor = NewAuthority(CaName);
        IssuedCertificate foreign = impostor.IssueUserCertificate("alice", _identityKey, Now);

        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _validator.Validate(foreign.Pem, null, Now));
    }

    [Fact]
    public void ExpiredCertificate()
    {
        ParleyProtocolException error = AssertKind(ProtocolErrorKind.CertificateExpired, () => _validator.Validate(_alice.Pem, null, Now.AddYears(2)));

        Assert.Contains("expired", error.Message, StringComparison.Ordinal);
        AssertKind(ProtocolErrorKind.CertificateExpired, () => _validator.Validate(_alice.Pem, null, _alice.NotAfter.AddSeconds(1)));
    }

    [Fact]
    public void NotYetValidCertificate()
    {
        ParleyProtocolException error = AssertKind(ProtocolErrorKind.CertificateExpired, () => _validator.Validate(_alice.Pem, null, _alice.NotBefore.AddSeconds(-1)));

        Assert.Contains("not valid before", error.Message, StringComparison.Ordinal);
        AssertKind(ProtocolErrorKind.CertificateExpired, () => _validator.Validate(_alice.Pem, null, Now.AddYears(-2)));
    }

    [Fact]
    public void RevokedCertificate()
    {
        RevocationList crl = _ca.CreateRevocationList([new RevokedCertificate(_alice.SerialHex, Now)], Now, TimeSpan.FromDays(7));

        ParleyProtocolException error = AssertKind(ProtocolErrorKind.CertificateRevoked, () => _validator.Validate(_alice.Pem, crl, Now));

        Assert.Contains(_alice.SerialHex, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateNotOnRevocationListValidates()
    {
        IssuedCertificate bob = _ca.IssueUserCertificate("bob", NewIdentityKey(), Now);
        RevocationList crl = _ca.CreateRevocationList([new RevokedCertificate(bob.SerialHex, Now)], Now, TimeSpan.FromDays(7));

        Assert.Equal("alice", _validator.Validate(_alice.Pem, crl, Now).UserName);
        AssertKind(ProtocolErrorKind.CertificateRevoked, () => _validator.Validate(bob.Pem, crl, Now));
    }

    [Fact]
    public void RevocationListOfAnotherCa()
    {
        using CertificateAuthority other = NewAuthority(CaName);
        RevocationList foreign = other.CreateRevocationList([], Now, TimeSpan.FromDays(7));

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(_alice.Pem, foreign, Now));
    }

    [Fact]
    public void FlippedByteInSignature()
    {
        // The signature value is the last 64 bytes of the certificate (RFC 8410 6).
        byte[] tampered = WithFlippedBit(_alice.Der, _alice.Der.Length - 10);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(tampered, null, Now));
    }

    [Fact]
    public void FlippedByteInSubjectName()
    {
        int index = IndexOf(_alice.Der.ToArray(), "alice"u8);
        byte[] tampered = WithFlippedBit(_alice.Der, index); // "alice" -> "`lice"

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(tampered, null, Now));
    }

    [Fact]
    public void FlippedByteInIdentityKey()
    {
        int index = IndexOf(_alice.Der.ToArray(), _identityKey);
        byte[] tampered = WithFlippedBit(_alice.Der, index + 7);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(tampered, null, Now));
    }

    [Fact]
    public void FlippedByteInValidity()
    {
        // UTCTime of notAfter, e.g. "270301120000Z": change the last digit of the year.
        string notAfter = _alice.NotAfter.UtcDateTime.ToString("yyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "Z";
        int index = IndexOf(_alice.Der.ToArray(), Encoding.ASCII.GetBytes(notAfter));
        byte[] tampered = WithFlippedBit(_alice.Der, index + 1, 0x02);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(tampered, null, Now));
    }

    [Fact]
    public void FlippedByteInIssuerName()
    {
        int index = IndexOf(_alice.Der.ToArray(), Encoding.ASCII.GetBytes(CaName));
        byte[] tampered = WithFlippedBit(_alice.Der, index + 3);

        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _validator.Validate(tampered, null, Now));
    }

    [Fact]
    public void NonCanonicalBooleanIsNotAccepted()
    {
        // basicConstraints is marked critical with BOOLEAN TRUE, 01 01 FF in DER. A BER reader takes
        // any non-zero byte as TRUE; re-encoding would hide the change, checking the bytes received does not.
        byte[] der = _alice.Der.ToArray();
        int index = IndexOf(der, [0x06, 0x03, 0x55, 0x1D, 0x13, 0x01, 0x01, 0xFF]) + 7;
        der[index] = 0x01;

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _validator.Validate(der, null, Now));
    }

    [Fact]
    public void EveryFlippedBitIsRejected()
    {
        byte[] der = _alice.Der.ToArray();
        var kinds = new Dictionary<ProtocolErrorKind, int>();
        for (int index = 0; index < der.Length; index++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80 })
            {
                byte[] tampered = WithFlippedBit(der, index, mask);
                ParleyProtocolException error = Assert.Throws<ParleyProtocolException>(() => _validator.Validate(tampered, null, Now));
                Assert.Contains(error.Kind, new[] { ProtocolErrorKind.Malformed, ProtocolErrorKind.InvalidSignature, ProtocolErrorKind.UntrustedCertificate });
                kinds[error.Kind] = kinds.GetValueOrDefault(error.Kind) + 1;
            }
        }

        Assert.True(kinds.GetValueOrDefault(ProtocolErrorKind.InvalidSignature) > der.Length / 2, "most single-bit changes should leave the certificate parseable");
    }

    [Fact]
    public void TruncatedDer()
    {
        byte[] der = _alice.Der.ToArray();
        for (int length = 0; length < der.Length; length++)
        {
            byte[] truncated = der[..length];
            AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(truncated, null, Now));
        }
    }

    [Fact]
    public void TrailingBytesAfterDer()
    {
        byte[] extended = [.. _alice.Der.Span, 0x00];

        AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(extended, null, Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n")]
    public void GarbageText(string text)
    {
        AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(text, null, Now));
        AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(Encoding.UTF8.GetBytes(text), null, Now));
    }

    [Theory]
    [InlineData(new byte[] { 0x30 })]
    [InlineData(new byte[] { 0x30, 0x00 })]
    [InlineData(new byte[] { 0x30, 0x80, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x02, 0x01, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xFE, 0xFD })]
    public void GarbageBytes(byte[] bytes)
    {
        AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(bytes, null, Now));
    }

    [Fact]
    public void OversizedInput()
    {
        byte[] huge = new byte[1024 * 1024];
        huge[0] = 0x30;

        AssertKind(ProtocolErrorKind.Malformed, () => _validator.Validate(huge, null, Now));
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public bool RandomBytesOnlyEverThrowProtocolErrors(byte[] bytes, bool asSequence) =>
        RejectsWithProtocolError(asSequence ? [0x30, .. bytes ?? []] : bytes ?? []);

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public bool RandomSplicesOnlyEverThrowProtocolErrors(PositiveInt offset, byte[] replacement)
    {
        byte[] der = _alice.Der.ToArray();
        int start = offset.Get % der.Length;
        byte[] spliced = [.. der[..start], .. replacement, .. der[Math.Min(der.Length, start + replacement.Length)..]];
        return spliced.AsSpan().SequenceEqual(der) || RejectsWithProtocolError(spliced);
    }

    [Fact]
    public void RootCertificateIsNotAUserCertificate()
    {
        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _validator.Validate(_ca.RootCertificatePem, null, Now));
    }

    [Fact]
    public void ServerCertificateIsNotAUserCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        IssuedCertificate server = _ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), ["localhost"], [IPAddress.Loopback], Now);

        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _validator.Validate(server.Pem, null, Now));
    }

    [Fact]
    public void GarbageRoot()
    {
        AssertKind(ProtocolErrorKind.Malformed, () => _ = new CertificateValidator("not a certificate"));
        AssertKind(ProtocolErrorKind.Malformed, () => _ = new CertificateValidator(new byte[] { 0x30, 0x03, 0x02, 0x01, 0x00 }));
    }

    [Fact]
    public void UserCertificateAsRoot()
    {
        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => _ = new CertificateValidator(_alice.Pem));
    }

    [Fact]
    public void TamperedRoot()
    {
        byte[] root = WithFlippedBit(_ca.RootCertificateDer, _ca.RootCertificateDer.Length - 5);

        AssertKind(ProtocolErrorKind.InvalidSignature, () => _ = new CertificateValidator(root));
    }

    [Fact]
    public void ExpiredRoot()
    {
        // The root's last day: the user certificate is cut to end with it, so it expires too.
        DateTimeOffset lastDay = _ca.NotAfter.AddDays(-1);
        IssuedCertificate late = _ca.IssueUserCertificate("alice", _identityKey, lastDay);

        Assert.Equal("alice", _validator.Validate(late.Pem, null, lastDay).UserName);
        AssertKind(ProtocolErrorKind.CertificateExpired, () => _validator.Validate(late.Pem, null, _ca.NotAfter.AddSeconds(1)));
    }

    private bool RejectsWithProtocolError(byte[] bytes)
    {
        try
        {
            _validator.Validate(bytes, null, Now);
            return false;
        }
        catch (ParleyProtocolException)
        {
            return true;
        }
    }
}
