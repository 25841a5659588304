using Grpc.Core;
using Parley.Api;
using Parley.Protocol.Identity;

namespace Parley.Server.Tests.Behaviour;

public sealed class AuthenticationTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task CallsWithoutATokenAreUnauthenticated()
    {
        await using var connection = server.Connect();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await connection.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest()));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task WrongKeyCannotAuthenticate()
    {
        await using var alice = await server.RegisterAsync("alice");
        using var impostor = IdentityKeyPair.Generate();
        await using var connection = server.Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => connection.AuthenticateAsync("alice", impostor, CancellationToken.None));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task UnknownUserCannotAuthenticate()
    {
        using var identity = IdentityKeyPair.Generate();
        await using var connection = server.Connect();
        var error = await Assert.ThrowsAsync<RpcException>(() => connection.AuthenticateAsync("nobody", identity, CancellationToken.None));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task TokenIsRefusedOnAnotherConnection()
    {
        await using var alice = await server.RegisterAsync("alice");
        using var identity = IdentityKeyPair.Generate();
        await using var first = server.Connect();
        var challenge = await first.Accounts.ChallengeAsync(new ChallengeRequest());
        var response = await first.Accounts.AuthenticateAsync(new AuthenticateRequest
        {
            Name = "alice",
            Challenge = challenge.Challenge,
            Signature = Google.Protobuf.ByteString.CopyFrom(alice.Identity.Sign(Protocol.Wire.AuthenticationMessages.Authenticate(challenge.ServerName, challenge.Challenge.Span))),
        });
        var stolen = new Metadata { { "authorization", "Bearer " + response.Token } };

        Assert.NotNull(await first.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest(), stolen));
        await using var second = server.Connect();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await second.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest(), stolen));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task RevokedUserIsCutOffAndCannotAuthenticateAgain()
    {
        await using var alice = await server.RegisterAsync("alice");
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };

        var revoked = await alice.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" }, admin);

        var cutOff = await Assert.ThrowsAsync<RpcException>(async () => await alice.Connection.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest()));
        Assert.Equal(StatusCode.Unauthenticated, cutOff.StatusCode);
        await using var connection = server.Connect();
        var error = await Assert.ThrowsAsync<RpcException>(() => connection.AuthenticateAsync("alice", alice.Identity, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);

        var crl = await connection.Accounts.GetRevocationListAsync(new GetRevocationListRequest());
        var list = Protocol.Certificates.RevocationList.Parse(crl.CrlPem, server.CaPem);
        Assert.True(list.Contains(revoked.Serial));
    }

    [Fact]
    public async Task AdminCallsNeedTheAdminToken()
    {
        await using var connection = server.Connect();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await connection.Admin.ListUsersAsync(new ListUsersRequest(), new Metadata { { "x-parley-admin-token", "guess" } }));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }
}
