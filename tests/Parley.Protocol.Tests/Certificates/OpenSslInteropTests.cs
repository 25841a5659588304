using System.Net;
using System.Security.Cryptography;
using Parley.Protocol.Certificates;
using Xunit;
using static Parley.Protocol.Tests.Certificates.CertificateTestData;

namespace Parley.Protocol.Tests.Certificates;

/// <summary>
/// Certificates, keys and revocation lists checked by the real openssl binary, which reads the real
/// clock: these tests issue at <see cref="DateTimeOffset.UtcNow"/>.
/// </summary>
public sealed class OpenSslInteropTests : IDisposable
{
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private readonly CertificateAuthority _ca;
    private readonly OpenSsl _openssl = new();

    public OpenSslInteropTests()
    {
        _ca = NewAuthority(_now);
        _openssl.Write("ca.pem", _ca.RootCertificatePem);
    }

    public void Dispose()
    {
        _openssl.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public void IssuedUserCertificateVerifiesWithOpenssl()
    {
        _openssl.Write("user.pem", _ca.IssueUserCertificate("alice", NewIdentityKey(), _now).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-CAfile", "ca.pem", "user.pem");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("user.pem: OK", result.Output.Trim());
    }

    [Fact]
    public void IssuedUserCertificateVerifiesForTlsClientsWithOpenssl()
    {
        _openssl.Write("user.pem", _ca.IssueUserCertificate("alice", NewIdentityKey(), _now).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "ca.pem", "user.pem");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("user.pem: OK", result.Output.Trim());
    }

    [Fact]
    public void ServerCertificateVerifiesWithOpenssl()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        IssuedCertificate server = _ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), ["localhost"], [IPAddress.Loopback], _now);
        _openssl.Write("server.pem", server.Pem);

        OpenSsl.Result plain = _openssl.Run("verify", "-CAfile", "ca.pem", "server.pem");
        OpenSsl.Result strict = _openssl.Run(
            "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "localhost", "-CAfile", "ca.pem", "server.pem");
        OpenSsl.Result byAddress = _openssl.Run("verify", "-purpose", "sslserver", "-verify_ip", "127.0.0.1", "-CAfile", "ca.pem", "server.pem");
        OpenSsl.Result wrongHost = _openssl.Run("verify", "-verify_hostname", "example.org", "-CAfile", "ca.pem", "server.pem");

        Assert.True(plain.ExitCode == 0 && plain.Output.Trim() == "server.pem: OK", plain.ToString());
        Assert.True(strict.ExitCode == 0 && strict.Output.Trim() == "server.pem: OK", strict.ToString());
        Assert.True(byAddress.ExitCode == 0 && byAddress.Output.Trim() == "server.pem: OK", byAddress.ToString());
        Assert.True(wrongHost.ExitCode != 0, wrongHost.ToString());
    }

    [Fact]
    public void UserCertificateIsNotForTlsServersWithOpenssl()
    {
        _openssl.Write("user.pem", _ca.IssueUserCertificate("alice", NewIdentityKey(), _now).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-purpose", "sslserver", "-CAfile", "ca.pem", "user.pem");

        Assert.True(result.ExitCode != 0, result.ToString());
    }

    [Fact]
    public void CertificateFromAnotherCaFailsOpensslVerify()
    {
        using CertificateAuthority other = NewAuthority(_now, CaName);
        _openssl.Write("foreign.pem", other.IssueUserCertificate("alice", NewIdentityKey(), _now).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-CAfile", "ca.pem", "foreign.pem");

        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.DoesNotContain(": OK", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RevokedCertificateFailsOpensslCrlCheck()
    {
        IssuedCertificate alice = _ca.IssueUserCertificate("alice", NewIdentityKey(), _now);
        _openssl.Write("user.pem", alice.Pem);
        _openssl.Write("crl.pem", _ca.CreateRevocationList([new RevokedCertificate(alice.SerialHex, _now)], _now, TimeSpan.FromDays(7)).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "ca.pem", "user.pem");

        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("certificate revoked", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void NonRevokedCertificatePassesOpensslCrlCheck()
    {
        IssuedCertificate alice = _ca.IssueUserCertificate("alice", NewIdentityKey(), _now);
        IssuedCertificate bob = _ca.IssueUserCertificate("bob", NewIdentityKey(), _now);
        _openssl.Write("user.pem", alice.Pem);
        _openssl.Write("crl.pem", _ca.CreateRevocationList([new RevokedCertificate(bob.SerialHex, _now)], _now, TimeSpan.FromDays(7)).Pem);

        OpenSsl.Result result = _openssl.Run("verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "ca.pem", "user.pem");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("user.pem: OK", result.Output.Trim());
    }

    [Fact]
    public void RevocationListVerifiesWithOpenssl()
    {
        _openssl.Write("crl.pem", _ca.CreateRevocationList([new RevokedCertificate("1234abcd", _now)], _now, TimeSpan.FromDays(7)).Pem);

        OpenSsl.Result result = _openssl.Run("crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("verify OK", result.Output + result.Error, StringComparison.Ordinal);
        Assert.Contains("Serial Number: 1234ABCD", result.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 CRL Number", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void OpensslShowsCommonNameAndKeyUsage()
    {
        _openssl.Write("user.pem", _ca.IssueUserCertificate("alice", NewIdentityKey(), _now).Pem);

        OpenSsl.Result user = _openssl.Run("x509", "-in", "user.pem", "-noout", "-text");
        OpenSsl.Result root = _openssl.Run("x509", "-in", "ca.pem", "-noout", "-text");

        Assert.True(user.ExitCode == 0, user.ToString());
        Assert.Contains("Version: 3 (0x2)", user.Output, StringComparison.Ordinal);
        Assert.Contains("Subject: CN = alice", user.Output, StringComparison.Ordinal);
        Assert.Contains("Issuer: CN = " + CaName, user.Output, StringComparison.Ordinal);
        Assert.Contains("Signature Algorithm: ED25519", user.Output, StringComparison.Ordinal);
        Assert.Contains("Public Key Algorithm: ED25519", user.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature\n", user.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:FALSE", user.Output, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication", user.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Subject Key Identifier", user.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Authority Key Identifier", user.Output, StringComparison.Ordinal);

        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.Contains("Subject: CN = " + CaName, root.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:TRUE", root.Output, StringComparison.Ordinal);
        Assert.Contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n", root.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void OpensslFingerprintMatchesRootFingerprint()
    {
        OpenSsl.Result result = _openssl.Run("x509", "-in", "ca.pem", "-noout", "-fingerprint", "-sha256");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(_ca.RootFingerprint.Formatted, result.Output.Trim().Replace("sha256 Fingerprint=", "SHA256:", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ExportedPrivateKeyIsReadByOpenssl()
    {
        _openssl.Write("ca.key", _ca.ExportPrivateKeyPem());

        OpenSsl.Result fromKey = _openssl.Run("pkey", "-in", "ca.key", "-pubout");
        OpenSsl.Result fromCertificate = _openssl.Run("x509", "-in", "ca.pem", "-noout", "-pubkey");

        Assert.True(fromKey.ExitCode == 0, fromKey.ToString());
        Assert.Equal(fromCertificate.Output, fromKey.Output);
    }

    [Fact]
    public void AuthorityMadeByOpensslLoadsAndIssues()
    {
        Assert.Equal(0, _openssl.Run("genpkey", "-algorithm", "ed25519", "-out", "other.key").ExitCode);
        OpenSsl.Result made = _openssl.Run(
            "req", "-x509", "-new", "-key", "other.key", "-subj", "/CN=Openssl CA", "-days", "30",
            "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", "other.pem");
        Assert.True(made.ExitCode == 0, made.ToString());

        // openssl's notBefore is the moment it ran, with no backdating: issue after it.
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using CertificateAuthority loaded = CertificateAuthority.Load(_openssl.Read("other.pem"), _openssl.Read("other.key"));
        IssuedCertificate issued = loaded.IssueUserCertificate("carol", NewIdentityKey(), now);
        _openssl.Write("carol.pem", issued.Pem);
        OpenSsl.Result verified = _openssl.Run("verify", "-CAfile", "other.pem", "carol.pem");

        Assert.Equal("Openssl CA", loaded.Name);
        Assert.Equal("carol", new CertificateValidator(_openssl.Read("other.pem")).Validate(issued.Pem, null, now).UserName);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        AssertKind(ProtocolErrorKind.UntrustedCertificate, () => new CertificateValidator(_ca.RootCertificatePem).Validate(issued.Pem, null, now));
    }

    [Fact]
    public void TemporaryDirectoryIsDeleted()
    {
        string directory;
        using (var openssl = new OpenSsl())
        {
            directory = openssl.WorkingDirectory;
            openssl.Write("x.pem", "x");
            Assert.True(Directory.Exists(directory));
        }

        Assert.False(Directory.Exists(directory));
    }
}
