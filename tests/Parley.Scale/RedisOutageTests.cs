using Parley.EndToEnd;
using Parley.Scale.Infrastructure;

namespace Parley.Scale;

/// <summary>Redis stops and comes back mid-run: delivery goes on by polling, then wake-ups resume.</summary>
public sealed class RedisOutageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DeliveryPollsWhileRedisIsDownAndWakeUpsResumeWhenItReturns()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: TimeSpan.FromMinutes(10), degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b) = (deployment.Nodes[0], deployment.Nodes[1]);
        var alice = await deployment.RegisterAsync("alice", deployment.Route(b));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(a));
        Assert.All(await Task.WhenAll(deployment.Nodes.Select(deployment.HealthAsync)), h => Assert.Equal((200, "ok"), h));

        await using var inbox = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait));
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "while redis is up");
        Assert.True(await inbox.ShowsAsync("while redis is up", Wait));

        await deployment.Redis.StopAsync();
        foreach (var node in deployment.Nodes)
        {
            // Still 200 (the node serves, a load balancer keeps it), but it says it is degraded.
            Assert.True(
                await Deployment.EventuallyAsync(async () => await deployment.HealthAsync(node) is (200, var body) && body.StartsWith("degraded", StringComparison.Ordinal), Wait),
                $"{node.Url} never said degraded: {await deployment.HealthAsync(node)}");
        }

        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "while redis is down");
        Assert.True(await inbox.ShowsAsync("while redis is down", Wait), $"not delivered by polling; shown: [{string.Join(", ", inbox.Texts)}]");

        await deployment.Redis.StartAsync();
        foreach (var node in deployment.Nodes)
        {
            Assert.True(
                await Deployment.EventuallyAsync(async () => await deployment.HealthAsync(node) == (200, "ok"), Wait),
                $"{node.Url} did not recover: {await deployment.HealthAsync(node)}");
        }

        // Polling is back to every ten minutes: this arrives only if the nodes subscribed again.
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "after redis returned");
        Assert.True(await inbox.ShowsAsync("after redis returned", Wait), $"not pushed after recovery; shown: [{string.Join(", ", inbox.Texts)}]");
        Assert.Equal(["while redis is up", "while redis is down", "after redis returned"], inbox.Texts);
    }

    [Fact]
    public async Task RevocationWhileRedisIsDownStillEndsTheUsersStreamOnAnotherNode()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: TimeSpan.FromMinutes(10), degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b) = (deployment.Nodes[0], deployment.Nodes[1]);
        var alice = await deployment.RegisterAsync("alice", deployment.Route(b));
        await using var inbox = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait));

        await deployment.Redis.StopAsync();
        Assert.True(await Deployment.EventuallyAsync(async () => (await deployment.HealthAsync(b)).Body.StartsWith("degraded", StringComparison.Ordinal), Wait));

        // No event can carry this revocation to node b; its sweep of the database finds it.
        await ParleyExecutable.RunOkAsync(deployment.Work.User("operator"), "admin", "revoke", "alice", "--data", deployment.DataDirectory, "--server", a.Url);
        var (exitCode, errors) = await inbox.EndedAsync(Wait);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("revoked", errors, StringComparison.Ordinal);
    }
}
