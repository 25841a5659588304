using Parley.EndToEnd;
using Parley.Scale.Infrastructure;

namespace Parley.Scale;

/// <summary>A node killed with -9: its clients reconnect through another node and lose nothing.</summary>
public sealed class NodeFailureTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ClientsOfAKilledNodeReconnectElsewhereWithNothingLostOrRepeated()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: TimeSpan.FromMinutes(10), degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b, c) = (deployment.Nodes[0], deployment.Nodes[1], deployment.Nodes[2]);
        var aliceRoute = deployment.Route(b);
        var bobRoute = deployment.Route(a);
        var alice = await deployment.RegisterAsync("alice", aliceRoute);
        var bob = await deployment.RegisterAsync("bob", bobRoute);

        await using var before = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait));
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "m1");
        Assert.True(await before.ShowsAsync("m1", Wait));

        // alice's node dies; her inbox loses its connection.
        await b.KillAsync();
        var (exitCode, _) = await before.EndedAsync(Wait);
        Assert.NotEqual(0, exitCode);

        // bob keeps sending through node a while alice is away.
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "m2");
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "m3");

        // The balancer sends alice to node c.
        aliceRoute.PointTo(c.Port);
        await using var after = FollowingInbox.Start(alice);
        Assert.True(await after.ShowsAsync("m3", Wait), $"shown: [{string.Join(", ", after.Texts)}]");
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(c, "parley_receive_streams") == 1, Wait));

        // Now bob's node dies too; he goes through node c as well, and his message is pushed to alice.
        await a.KillAsync();
        bobRoute.PointTo(c.Port);
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "m4");
        Assert.True(await after.ShowsAsync("m4", Wait), $"shown: [{string.Join(", ", after.Texts)}]");

        Assert.Equal(["m1", "m2", "m3", "m4"], [.. before.Texts, .. after.Texts]);
        var history = await ParleyExecutable.RunOkAsync(alice, "history", "bob", "--json");
        foreach (var text in new[] { "m1", "m2", "m3", "m4" })
        {
            Assert.Single(history.Stdout.Split('\n'), line => line.Contains($"\"text\":\"{text}\"", StringComparison.Ordinal));
        }
    }
}
