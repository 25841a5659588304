using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Server.Hosting;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// An idle TLS connection lets OpenSSL free its record buffers (SSL_MODE_RELEASE_BUFFERS), and a
/// connection in that mode still carries data both ways, records larger than one buffer included.
/// </summary>
public sealed class TlsRecordBuffersTests
{
    [Fact]
    public void SupportedOnLinuxWithTheOpenSslOfThisRuntime()
    {
        // Fails when a .NET update moves SslStream's handle: the saving would silently be lost.
        Assert.Equal(OperatingSystem.IsLinux(), TlsRecordBuffers.Supported);
    }

    [Fact]
    public async Task ReleasedConnectionCarriesDataBothWays()
    {
        using var certificate = SelfSigned();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var clientSocket = new TcpClient();
        await clientSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var serverSocket = await listener.AcceptTcpClientAsync();
        await using var server = new SslStream(serverSocket.GetStream());
        await using var client = new SslStream(clientSocket.GetStream(), false, (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13 }),
            client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls13 }));

        Assert.Equal(OperatingSystem.IsLinux(), TlsRecordBuffers.TryRelease(server));

        // Several rounds, each larger than one 16 KiB record: buffers are freed and taken again.
        var random = new Random(8);
        for (var round = 0; round < 4; round++)
        {
            var request = new byte[40_000 + round];
            var response = new byte[50_000 - round];
            random.NextBytes(request);
            random.NextBytes(response);
            await client.WriteAsync(request);
            Assert.Equal(request, await ReadExactlyAsync(server, request.Length));
            await server.WriteAsync(response);
            Assert.Equal(response, await ReadExactlyAsync(client, response.Length));
        }
    }

    [Fact]
    public void NotAuthenticatedStreamIsLeftAlone()
    {
        using var stream = new SslStream(new MemoryStream());
        Assert.False(TlsRecordBuffers.TryRelease(stream));
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // A key that SslStream on Linux can use for the handshake (an exported and re-imported PFX).
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
