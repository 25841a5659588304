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
}
