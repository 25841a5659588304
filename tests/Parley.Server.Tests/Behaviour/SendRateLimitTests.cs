using Grpc.Core;
using Parley.Api;

namespace Parley.Server.Tests.Behaviour;

/// <summary>A user who floods sends is slowed down alone: everyone else is still served, and nothing acknowledged is lost.</summary>
public sealed class SendRateLimitTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(o => new Hosting.ServerOptions
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        SendsPerSecondPerUser = 1,
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task FloodingSenderIsLimitedWhileOthersAreServedAndEveryAckedMessageIsStored()
    {
        await using var mallory = await server.RegisterAsync("mallory");
        await using var carol = await server.RegisterAsync("carol");
        await using var bob = await server.RegisterAsync("bob");

        // The bucket holds two sends; thirty at once must overflow it whatever the machine's speed.
        var flood = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                await mallory.SendAsync("bob", [(byte)i]);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));

        Assert.Contains(StatusCode.ResourceExhausted, flood);
        Assert.All(flood, status => Assert.Contains(status, new[] { StatusCode.OK, StatusCode.ResourceExhausted }));

        // Carol has her own bucket.
        var response = await carol.SendAsync("bob", [42]);
        Assert.False(response.Duplicate);

        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        var users = await bob.Connection.Admin.ListUsersAsync(new ListUsersRequest(), admin);
        var accepted = flood.Count(s => s == StatusCode.OK);
        Assert.Equal((uint)(accepted + 1), users.Users.Single(u => u.Name == "bob").QueuedMessages);
    }
}
