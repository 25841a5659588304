using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Protocol.Certificates;
using Parley.Protocol.Identity;
using Parley.Protocol.Wire;

namespace Parley.Server.Tests.Behaviour;

public sealed class RegistrationTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task RegisteredCertificateValidatesAgainstTheServedCa()
    {
        await using var alice = await server.RegisterAsync("alice");

        var validated = new CertificateValidator(server.CaPem).Validate(alice.CertificatePem, null, DateTimeOffset.UtcNow);

        Assert.Equal("alice", validated.UserName);
        Assert.Equal(alice.Identity.PublicKey.SigningKey.ToArray(), validated.IdentityKey.ToArray());
    }

    [Fact]
    public async Task NameIsCaseFoldedAndTakenNamesAreRefused()
    {
        await using var alice = await server.RegisterAsync("Alice");
        using var other = IdentityKeyPair.Generate();
        await using var connection = server.Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("ALICE", other, null, CancellationToken.None));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        var certificate = await connection.Accounts.GetCertificateAsync(new GetCertificateRequest { Name = "alice" });
        Assert.Equal("alice", new CertificateValidator(server.CaPem).Validate(certificate.CertificatePem, null, DateTimeOffset.UtcNow).UserName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1alice")]
    [InlineData("al ice")]
    [InlineData("аlice")] // Cyrillic а: a look-alike of a registered Latin name
    [InlineData("a-name-that-is-far-too-long-to-be-accepted")]
    public async Task BadNamesAreInvalidArgument(string name)
    {
        using var identity = IdentityKeyPair.Generate();
        await using var connection = server.Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync(name, identity, null, CancellationToken.None));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task ForgedRegistrationSignatureIsRefused()
    {
        using var identity = IdentityKeyPair.Generate();
        using var impostor = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var challenge = await connection.Accounts.ChallengeAsync(new ChallengeRequest());

        var error = await Assert.ThrowsAsync<RpcException>(async () => await connection.Accounts.RegisterAsync(new RegisterRequest
        {
            Name = "bob",
            Identity = identity.PublicKey.ToWire(),
            Challenge = challenge.Challenge,
            Signature = ByteString.CopyFrom(impostor.Sign(AuthenticationMessages.Register(challenge.ServerName, "bob", challenge.Challenge.Span))),
        }));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task ChallengeCannotBeUsedTwice()
    {
        using var identity = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var challenge = await connection.Accounts.ChallengeAsync(new ChallengeRequest());
        var request = new RegisterRequest
        {
            Name = "carol",
            Identity = identity.PublicKey.ToWire(),
            Challenge = challenge.Challenge,
            Signature = ByteString.CopyFrom(identity.Sign(AuthenticationMessages.Register(challenge.ServerName, "carol", challenge.Challenge.Span))),
        };
        await connection.Accounts.RegisterAsync(request);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await connection.Accounts.RegisterAsync(request));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task RetryBySameIdentityReturnsTheSameCertificate()
    {
        using var identity = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var first = await connection.RegisterAsync("dave", identity, null, CancellationToken.None);
        var again = await connection.RegisterAsync("dave", identity, null, CancellationToken.None);
        Assert.Equal(first.CertificatePem, again.CertificatePem);
    }

    [Fact]
    public async Task InvitePolicyNeedsAFreshInvite()
    {
        await using var invited = await TestServer.StartAsync(o => new Hosting.ServerOptions
        {
            DataDirectory = o.DataDirectory,
            Listen = o.Listen,
            Registration = Hosting.RegistrationPolicy.Invite,
        });
        using var identity = IdentityKeyPair.Generate();
        await using var connection = invited.Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("erin", identity, "not-an-invite", CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        var invite = await connection.Admin.CreateInviteAsync(new CreateInviteRequest(), new Metadata { { "x-parley-admin-token", invited.AdminToken } });
        await connection.RegisterAsync("erin", identity, invite.Invite, CancellationToken.None);

        using var second = IdentityKeyPair.Generate();
        var reused = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("frank", second, invite.Invite, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, reused.StatusCode);
    }

    [Fact]
    public async Task RevokedNameRegisteredAgainWithANewIdentityGetsANewCertificateAndTheOldOneStaysRevoked()
    {
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        await using var bob = await server.RegisterAsync("bob");
        await using var lost = await server.RegisterAsync("alice");
        var queued = Guid.NewGuid().ToByteArray();
        await bob.SendAsync("alice", [42], queued);
        var revoked = await bob.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" }, admin);

        using var replacement = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var registered = await connection.RegisterAsync("alice", replacement, null, CancellationToken.None);

        var crl = await connection.Accounts.GetRevocationListAsync(new GetRevocationListRequest());
        var list = RevocationList.Parse(crl.CrlPem, server.CaPem);
        var validator = new CertificateValidator(server.CaPem);
        var validated = validator.Validate(registered.CertificatePem, list, DateTimeOffset.UtcNow);
        Assert.Equal("alice", validated.UserName);
        Assert.Equal(replacement.PublicKey.SigningKey.ToArray(), validated.IdentityKey.ToArray());
        Assert.True(list.Contains(revoked.Serial));
        Assert.False(list.Contains(validated.SerialHex));
        Assert.ThrowsAny<Exception>(() => validator.Validate(lost.CertificatePem, list, DateTimeOffset.UtcNow));
        var published = await connection.Accounts.GetCertificateAsync(new GetCertificateRequest { Name = "alice" });
        Assert.Equal(registered.CertificatePem, published.CertificatePem);

        // The new identity authenticates; its directory starts empty (the old prekeys are gone).
        await connection.AuthenticateAsync("alice", replacement, CancellationToken.None);
        var status = await connection.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest());
        Assert.Equal(0u, status.OneTimePreKeys);
        var noBundle = await Assert.ThrowsAsync<RpcException>(async () => await bob.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "alice" }));
        Assert.Equal(StatusCode.NotFound, noBundle.StatusCode);

        // The old identity cannot authenticate as alice any more.
        await using var thief = server.Connect();
        var refused = await Assert.ThrowsAsync<RpcException>(() => thief.AuthenticateAsync("alice", lost.Identity, CancellationToken.None));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        // What was queued for the old identity is still delivered (the new client cannot decrypt it).
        using var stream = connection.Mailbox.Receive();
        var envelope = await NextEnvelopeAsync(stream.ResponseStream);
        Assert.Equal(queued, envelope.MessageId.ToByteArray());
    }

    [Fact]
    public async Task RevokedIdentityCannotRegisterAgainUnderAnyName()
    {
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        await using var alice = await server.RegisterAsync("alice");
        await alice.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" }, admin);
        await using var connection = server.Connect();

        var sameName = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("alice", alice.Identity, null, CancellationToken.None));
        var otherName = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("alice2", alice.Identity, null, CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, sameName.StatusCode);
        Assert.Contains("this identity was revoked", sameName.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.PermissionDenied, otherName.StatusCode);
        var users = await connection.Admin.ListUsersAsync(new ListUsersRequest(), admin);
        Assert.True(users.Users.Single(u => u.Name == "alice").Revoked);
        Assert.DoesNotContain(users.Users, u => u.Name == "alice2");
    }

    [Fact]
    public async Task RegisteredAgainNameIsActiveAgain()
    {
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        await using var lost = await server.RegisterAsync("alice");
        await lost.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" }, admin);
        using var replacement = IdentityKeyPair.Generate();
        using var latecomer = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var first = await connection.RegisterAsync("alice", replacement, null, CancellationToken.None);

        // The new identity retrying (its answer was lost) gets the same certificate; anyone else, ALREADY_EXISTS.
        var retry = await connection.RegisterAsync("alice", replacement, null, CancellationToken.None);
        var taken = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync("alice", latecomer, null, CancellationToken.None));

        Assert.Equal(first.CertificatePem, retry.CertificatePem);
        Assert.Equal(StatusCode.AlreadyExists, taken.StatusCode);
        var users = await connection.Admin.ListUsersAsync(new ListUsersRequest(), admin);
        Assert.False(Assert.Single(users.Users).Revoked);
    }

    [Fact]
    public async Task RevocationEndsTheLostDevicesOpenReceiveStream()
    {
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        await using var bob = await server.RegisterAsync("bob");
        await using var lost = await server.RegisterAsync("alice");
        using var stream = lost.Connection.Mailbox.Receive();
        await bob.SendAsync("alice", [1]);
        await NextEnvelopeAsync(stream.ResponseStream); // the stream is open and listening

        await bob.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" }, admin);

        // Otherwise it would go on receiving, and acknowledging (deleting), the new identity's messages.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(timeout.Token))
            {
            }
        });
        Assert.Equal(StatusCode.PermissionDenied, ended.StatusCode);
    }

    /// <summary>The next envelope pushed on a Receive stream, skipping any other kind of response.</summary>
    private static async Task<Envelope> NextEnvelopeAsync(IAsyncStreamReader<ReceiveResponse> responses)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Assert.True(await responses.MoveNext(timeout.Token), "the stream ended before an envelope arrived");
            if (responses.Current.Envelope is { } envelope)
            {
                return envelope;
            }
        }
    }
}
