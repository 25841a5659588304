using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Protocol.Certificates;
using Xunit;
using static Parley.Protocol.Tests.Certificates.CertificateTestData;

namespace Parley.Protocol.Tests.Certificates;

/// <summary>The server certificate in a real TLS 1.3 handshake by .NET's SslStream over loopback.</summary>
public class ServerCertificateTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ServerCertificateWorksWithSslStream()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using CertificateAuthority ca = NewAuthority(now);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        IssuedCertificate issued = ca.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), ["localhost"], [IPAddress.Loopback], now);
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(issued.Der.Span);
        using X509Certificate2 serverCertificate = publicOnly.CopyWithPrivateKey(key);
        using X509Certificate2 root = X509CertificateLoader.LoadCertificate(ca.RootCertificateDer.Span);

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var cancel = new CancellationTokenSource(Timeout);
        Task<string> server = ServeOnceAsync(listener, serverCertificate, cancel.Token);

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancel.Token);
        await using var tls = new SslStream(client.GetStream());
        SslPolicyErrors? seen = null;
        bool chainBuilt = false;
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    seen = errors;
                    chainBuilt = ChainsToPinnedRoot(certificate, root);
                    return chainBuilt && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
                },
            },
            cancel.Token);
        byte[] reply = new byte[2];
        await tls.ReadExactlyAsync(reply, cancel.Token);

        Assert.Equal("ok", await server);
        Assert.Equal("ok"u8.ToArray(), reply);
        Assert.Equal(SslProtocols.Tls13, tls.SslProtocol);
        Assert.True(chainBuilt, $"chain to the pinned root failed; policy errors {seen}");

        using CertificateAuthority other = NewAuthority(now);
        using X509Certificate2 otherRoot = X509CertificateLoader.LoadCertificate(other.RootCertificateDer.Span);
        Assert.False(ChainsToPinnedRoot(serverCertificate, otherRoot));
    }

    private static async Task<string> ServeOnceAsync(TcpListener listener, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        using TcpClient accepted = await listener.AcceptTcpClientAsync(cancellationToken);
        await using var tls = new SslStream(accepted.GetStream());
        await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13 },
            cancellationToken);
        await tls.WriteAsync("ok"u8.ToArray(), cancellationToken);
        await tls.FlushAsync(cancellationToken);
        return "ok";
    }

    /// <summary>How a Parley client checks the server: a chain to the pinned CA only, not to the system store.</summary>
    private static bool ChainsToPinnedRoot(X509Certificate? certificate, X509Certificate2 root)
    {
        if (certificate is null)
        {
            return false;
        }

        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        return chain.Build(leaf);
    }
}
