using Parley.EndToEnd;
using Parley.Scale.Infrastructure;

namespace Parley.Scale;

/// <summary>Three nodes on one database and one Redis: messages cross nodes, pushed by wake-ups.</summary>
public sealed class CrossNodeDeliveryTests
{
    /// <summary>Long enough that a message arriving within it was not delivered by the safety-net re-read.</summary>
    private static readonly TimeSpan NoPolling = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MessageAcceptedByOneNodeIsPushedByTheRecipientsNode()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: NoPolling, degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b, c) = (deployment.Nodes[0], deployment.Nodes[1], deployment.Nodes[2]);

        // The nodes started together over one data directory and serve one CA.
        Assert.All(deployment.Nodes, node => Assert.Equal(deployment.CaFingerprint, node.CaFingerprint));

        var aliceRoute = deployment.Route(b);
        var bobRoute = deployment.Route(a);
        var alice = await deployment.RegisterAsync("alice", aliceRoute);
        var bob = await deployment.RegisterAsync("bob", bobRoute);

        await using var inbox = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait), "alice's stream did not open on node b");

        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "hello from node a");

        // The stream re-reads on its own only every ten minutes: this is the wake-up from node a.
        Assert.True(await inbox.ShowsAsync("hello from node a", Wait), $"not pushed; shown: [{string.Join(", ", inbox.Texts)}]");
        Assert.True(await deployment.MetricAsync(b, "parley_cluster_events_received_total{kind=\"wake\"}") >= 1);

        // alice answers through node b; bob reads it through node c.
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "hi bob, from node b");
        bobRoute.PointTo(c.Port);
        var read = await ParleyExecutable.RunOkAsync(bob, "inbox", "--json");
        Assert.Contains("hi bob, from node b", read.Stdout, StringComparison.Ordinal);
        Assert.Equal(["hello from node a"], inbox.Texts);
    }

    [Fact]
    public async Task NewerStreamOnAnotherNodeTakesOverAndEachMessageIsShownOnce()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: NoPolling, degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b, c) = (deployment.Nodes[0], deployment.Nodes[1], deployment.Nodes[2]);
        var aliceRoute = deployment.Route(b);
        var alice = await deployment.RegisterAsync("alice", aliceRoute);
        var bob = await deployment.RegisterAsync("bob", deployment.Route(a));

        await using var first = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait));
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "before the takeover");
        Assert.True(await first.ShowsAsync("before the takeover", Wait));

        // alice connects again, now through node c, while her stream on node b is still open.
        aliceRoute.PointTo(c.Port);
        await using var second = FollowingInbox.Start(alice);
        var (exitCode, errors) = await first.EndedAsync(Wait);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("took over", errors, StringComparison.Ordinal);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(c, "parley_receive_streams") == 1, Wait));
        Assert.Equal(0, await deployment.MetricAsync(b, "parley_receive_streams"));

        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "after the takeover");
        Assert.True(await second.ShowsAsync("after the takeover", Wait), $"not pushed; shown: [{string.Join(", ", second.Texts)}]");

        // Each message shown once, by one of the two.
        Assert.Equal(["before the takeover", "after the takeover"], [.. first.Texts, .. second.Texts]);
    }

    [Fact]
    public async Task RevocationOnOneNodeEndsTheUsersStreamOnAnother()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 3, pollInterval: NoPolling, degradedPollInterval: TimeSpan.FromSeconds(1));
        var (a, b) = (deployment.Nodes[0], deployment.Nodes[1]);
        var alice = await deployment.RegisterAsync("alice", deployment.Route(b));

        await using var inbox = FollowingInbox.Start(alice);
        Assert.True(await Deployment.EventuallyAsync(async () => await deployment.MetricAsync(b, "parley_receive_streams") == 1, Wait));

        // The operator revokes alice through node a.
        await ParleyExecutable.RunOkAsync(deployment.Work.User("operator"), "admin", "revoke", "alice", "--data", deployment.DataDirectory, "--server", a.Url);

        var (exitCode, errors) = await inbox.EndedAsync(Wait);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("revoked", errors, StringComparison.Ordinal);
        Assert.True(await deployment.MetricAsync(b, "parley_cluster_events_received_total{kind=\"revoke\"}") >= 1);
    }
}
