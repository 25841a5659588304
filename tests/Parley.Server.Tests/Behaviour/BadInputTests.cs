using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;

namespace Parley.Server.Tests.Behaviour;

/// <summary>Input no well-behaved client sends: each gets a status, and everyone else stays served.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(o => new Hosting.ServerOptions
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        ReceiveWriteTimeout = TimeSpan.FromSeconds(2),
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task MalformedProtobufGetsAnErrorStatusAndTheServerKeepsServing()
    {
        var (status, _) = await RawGrpcAsync("/parley.v1.Accounts/Challenge", [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0A]);
        Assert.NotEqual("0", status);

        await using var alice = await server.RegisterAsync("alice");
        Assert.NotNull(await alice.Connection.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest()));
    }

    [Fact]
    public async Task UnknownMethodIsUnimplemented()
    {
        var (status, _) = await RawGrpcAsync("/parley.v1.Mailbox/Teleport", []);
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture), status);
    }

    [Fact]
    public async Task ReaderThatStopsReadingIsDisconnectedAndOthersStayServed()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        await using var carol = await server.RegisterAsync("carol");
        var big = new byte[200 * 1024];
        for (var i = 0; i < 40; i++)
        {
            await alice.SendAsync("bob", big);
        }

        // bob opens his stream and never reads: HTTP/2 flow control fills, the server's write stalls.
        using var stalled = bob.Connection.Mailbox.Receive();
        await Task.Delay(TimeSpan.FromSeconds(1));

        // carol is served while bob's stream is stuck.
        await alice.SendAsync("carol", [1]);
        using (var carolStream = carol.Connection.Mailbox.Receive())
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.True(await carolStream.ResponseStream.MoveNext(wait.Token));
        }

        // After the write timeout the server ends bob's stream; reading it now ends in an error or completes.
        await Task.Delay(TimeSpan.FromSeconds(4));
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ended = false;
        try
        {
            while (await stalled.ResponseStream.MoveNext(drain.Token))
            {
            }

            ended = true;
        }
        catch (RpcException)
        {
            // Ended by the server (not by our own drain deadline).
            ended = !drain.IsCancellationRequested;
        }

        Assert.True(ended);

        // Nothing was lost: none of bob's messages were acknowledged, so all are still stored.
        var users = await alice.Connection.Admin.ListUsersAsync(new ListUsersRequest(), new Metadata { { "x-parley-admin-token", server.AdminToken } });
        Assert.Equal(40u, users.Users.Single(u => u.Name == "bob").QueuedMessages);
    }

    /// <summary>Posts one gRPC frame with a raw payload over TLS (HTTP/2) and returns grpc-status.</summary>
    private async Task<(string? Status, HttpStatusCode Http)> RawGrpcAsync(string path, byte[] payload)
    {
        using var ca = new PinnedCertificateAuthority(server.CaPem);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca.Validate(certificate, errors);
        using var http = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, path)) { Content = new ByteArrayContent(frame) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.First()
            : response.Headers.TryGetValues("grpc-status", out var headerValues) ? headerValues.First()
            : null;
        return (status, response.StatusCode);
    }
}
