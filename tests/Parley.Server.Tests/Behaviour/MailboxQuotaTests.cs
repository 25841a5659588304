using Grpc.Core;
using Parley.Api;

namespace Parley.Server.Tests.Behaviour;

/// <summary>A full mailbox refuses new messages, but still acknowledges the retry of a stored one.</summary>
public sealed class MailboxQuotaTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(o => new Hosting.ServerOptions
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        MaxQueuedPerUser = 2,
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task RetryOfAStoredMessageToAFullMailboxIsAcknowledgedAsADuplicate()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var first = Guid.NewGuid().ToByteArray();
        var second = Guid.NewGuid().ToByteArray();
        Assert.False((await alice.SendAsync("bob", [1], first)).Duplicate);
        Assert.False((await alice.SendAsync("bob", [2], second)).Duplicate);

        var retry = await alice.SendAsync("bob", [2], second);
        var full = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("bob", [3]));

        Assert.True(retry.Duplicate);
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        var users = await alice.Connection.Admin.ListUsersAsync(new ListUsersRequest(), new Metadata { { "x-parley-admin-token", server.AdminToken } });
        Assert.Equal(2u, users.Users.Single(u => u.Name == "bob").QueuedMessages);
    }

    [Fact]
    public async Task AnotherSendersMessageWithTheSameIdIsNoDuplicate()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var carol = await server.RegisterAsync("carol");
        await using var bob = await server.RegisterAsync("bob");
        var id = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1], id);
        await alice.SendAsync("bob", [2]);

        var error = await Assert.ThrowsAsync<RpcException>(() => carol.SendAsync("bob", [1], id));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}
