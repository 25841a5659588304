using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;
using Parley.EndToEnd;
using Parley.Protocol.Identity;
using Parley.Scale.Infrastructure;

namespace Parley.Scale;

/// <summary>
/// Invitations and code chat whose two sides are on different nodes: the nameplate, its single
/// claim, the relayed frames and the limits all live in the one Redis the nodes share.
/// </summary>
public sealed class RendezvousAcrossNodesTests
{
    private const string MismatchLine = "parley: error: code mismatch — nothing was exchanged";
    private const string ErrorTrailer = "parley-rendezvous-error";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task InviteOnOneNodeJoinOnAnotherMakesVerifiedContactsWithOneSafetyNumber()
    {
        await using var deployment = await StartAsync();
        var alice = await deployment.RegisterAsync("alice", deployment.Route(deployment.Nodes[0]));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(deployment.Nodes[1]));

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var joined = await invite.JoinAsync(bob);

        Assert.True(joined.ExitCode == 0, joined.ToString());
        Assert.True(invite.ExitCode == 0, invite.ToString());
        Assert.Contains("alice is now a verified contact", joined.Stdout, StringComparison.Ordinal);
        Assert.Contains("bob is now a verified contact", invite.Stdout, StringComparison.Ordinal);
        Assert.Equal(RunningParley.SafetyNumber(joined.Stdout), RunningParley.SafetyNumber(invite.Stdout));
        Assert.Matches(@"alice\s.*verified", (await ParleyExecutable.RunOkAsync(bob, "contacts", "list")).Stdout);

        // Used up: the same code through a third node is refused as taken.
        var bobAgain = await deployment.RegisterAsync("carol", deployment.Route(deployment.Nodes[2]));
        var retry = await ParleyExecutable.RunAsync(bobAgain, null, "join", await invite.WaitForCodeAsync());
        Assert.NotEqual(0, retry.ExitCode);
        Assert.Contains("already used", retry.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongCodeAcrossNodesIsAMismatchOnBothSidesAndStoresNothing()
    {
        await using var deployment = await StartAsync();
        var alice = await deployment.RegisterAsync("alice", deployment.Route(deployment.Nodes[0]));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(deployment.Nodes[1]));

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var code = await invite.WaitForCodeAsync();
        var parts = code.Split('-');
        var wrongWord = parts[1] == "tiger" ? "velvet" : "tiger";
        var joined = await ParleyExecutable.RunAsync(bob, null, "join", $"{parts[0]}-{wrongWord}-{parts[2]}");
        await invite.ExitAsync();

        Assert.NotEqual(0, joined.ExitCode);
        Assert.NotEqual(0, invite.ExitCode);
        Assert.Equal(MismatchLine, joined.Stderr.Trim());
        Assert.Equal(MismatchLine, invite.Stderr.Trim());
        Assert.Contains("no contacts yet", (await ParleyExecutable.RunOkAsync(alice, "contacts", "list")).Stdout, StringComparison.Ordinal);
        Assert.Contains("no contacts yet", (await ParleyExecutable.RunOkAsync(bob, "contacts", "list")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeChatAcrossNodesExchangesALineEachWay()
    {
        await using var deployment = await StartAsync();
        var alice = await deployment.RegisterAsync("alice", deployment.Route(deployment.Nodes[2]));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(deployment.Nodes[0]));

        using var host = RunningParley.Start(alice, "chat", "--new-code");
        using var guest = await host.JoinChatAsync(bob, "alice", "bob");

        await host.WriteLineAsync("hello from alice on node c");
        await guest.WaitForAsync("alice: hello from alice on node c");
        await guest.WriteLineAsync("hello from bob on node a");
        await host.WaitForAsync("bob: hello from bob on node a");

        // End of input ends alice's side; bob, on another node, is told and ends too.
        host.Process.StandardInput.Close();
        await host.ExitAsync();
        await guest.WaitForAsync("alice left the chat");
        guest.Process.StandardInput.Close();
        await guest.ExitAsync();
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.True(guest.ExitCode == 0, guest.ToString());
        Assert.Equal(RunningParley.SafetyNumber(host.Stdout), RunningParley.SafetyNumber(guest.Stdout));
    }

    [Fact]
    public async Task CodeThatExpiredOnOneNodeIsExpiredOnAnother()
    {
        await using var deployment = await Deployment.StartAsync(nodes: 2, pollInterval: TimeSpan.FromSeconds(5), degradedPollInterval: TimeSpan.FromSeconds(1), new Dictionary<string, object> { ["rendezvousExpirySeconds"] = 2 });
        var alice = await deployment.RegisterAsync("alice", deployment.Route(deployment.Nodes[0]));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(deployment.Nodes[1]));

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var code = await invite.WaitForCodeAsync();
        await invite.ExitAsync();
        Assert.NotEqual(0, invite.ExitCode);
        Assert.Equal("parley: error: the code has expired — ask for a new one", invite.Stderr.Trim());

        var late = await ParleyExecutable.RunAsync(bob, null, "join", code);
        Assert.NotEqual(0, late.ExitCode);
        Assert.Equal("parley: error: the code has expired — ask for a new one", late.Stderr.Trim());
        var unknown = await ParleyExecutable.RunAsync(bob, null, "join", "424242-tiger-velvet");
        Assert.Equal("parley: error: no invitation has this code's number — check it, or ask for a new code", unknown.Stderr.Trim());
    }

    [Fact]
    public async Task TwoNodesClaimingOneNameplateAtOncePairExactlyOne()
    {
        await using var deployment = await StartAsync();
        using var aliceKey = IdentityKeyPair.Generate();
        using var bobKey = IdentityKeyPair.Generate();
        using var carolKey = IdentityKeyPair.Generate();
        await using var alice = await ConnectAsync(deployment, deployment.Nodes[0], "alice", aliceKey);
        await using var bob = await ConnectAsync(deployment, deployment.Nodes[1], "bob", bobKey);
        await using var carol = await ConnectAsync(deployment, deployment.Nodes[2], "carol", carolKey);

        for (var round = 0; round < 5; round++)
        {
            using var open = alice.Rendezvous.Exchange();
            await open.RequestStream.WriteAsync(new RendezvousRequest { Open = new RendezvousOpen() });
            Assert.True(await open.ResponseStream.MoveNext());
            var nameplate = open.ResponseStream.Current.Opened.Nameplate;

            using var first = bob.Rendezvous.Exchange();
            using var second = carol.Rendezvous.Exchange();
            var claim = new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = nameplate } };
            await Task.WhenAll(first.RequestStream.WriteAsync(claim), second.RequestStream.WriteAsync(claim));
            var outcomes = await Task.WhenAll(FirstAnswerAsync(first), FirstAnswerAsync(second));

            Assert.Single(outcomes, o => o == "paired");
            Assert.Single(outcomes, o => o == "already_claimed");

            // The inviter on node a was told too.
            Assert.True(await open.ResponseStream.MoveNext());
            Assert.Equal(RendezvousResponse.KindOneofCase.Paired, open.ResponseStream.Current.KindCase);
        }
    }

    [Fact]
    public async Task PeerOnANodeKilledMidExchangeIsPeerLeftNotAHang()
    {
        await using var deployment = await StartAsync();
        using var aliceKey = IdentityKeyPair.Generate();
        using var bobKey = IdentityKeyPair.Generate();
        await using var alice = await ConnectAsync(deployment, deployment.Nodes[0], "alice", aliceKey);
        await using var bob = await ConnectAsync(deployment, deployment.Nodes[1], "bob", bobKey);

        using var open = alice.Rendezvous.Exchange();
        await open.RequestStream.WriteAsync(new RendezvousRequest { Open = new RendezvousOpen() });
        Assert.True(await open.ResponseStream.MoveNext());
        using var claim = bob.Rendezvous.Exchange();
        await claim.RequestStream.WriteAsync(new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = open.ResponseStream.Current.Opened.Nameplate } });
        Assert.Equal("paired", await FirstAnswerAsync(claim));
        Assert.True(await open.ResponseStream.MoveNext());

        // A frame crosses, then alice's node dies without telling anyone.
        await open.RequestStream.WriteAsync(new RendezvousRequest { Relay = Google.Protobuf.ByteString.CopyFromUtf8("pA") });
        Assert.True(await claim.ResponseStream.MoveNext());
        Assert.Equal("pA", claim.ResponseStream.Current.Relay.ToStringUtf8());
        await deployment.Nodes[0].KillAsync();

        // Bob's node notices alice's side went silent and ends his call.
        using var patience = new CancellationTokenSource(Wait);
        var ended = await Assert.ThrowsAsync<RpcException>(() => claim.ResponseStream.MoveNext(patience.Token));
        Assert.Equal((StatusCode.Aborted, "peer_left"), (ended.StatusCode, ended.Trailers.GetValue(ErrorTrailer)));
    }

    [Fact]
    public async Task RendezvousLimitsHoldWhenSpreadOverNodes()
    {
        await using var deployment = await StartAsync();
        using var daveKey = IdentityKeyPair.Generate();
        using var erinKey = IdentityKeyPair.Generate();
        var connections = new List<ServerConnection>();
        try
        {
            foreach (var node in deployment.Nodes)
            {
                connections.Add(await ConnectAsync(deployment, node, "dave", daveKey, register: connections.Count == 0));
            }

            // Ten claims a minute per user, counted on every node together: claims of a number no
            // one opened count, and are answered unknown, until the eleventh.
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(RendezvousStatus(StatusCode.NotFound, "unknown_nameplate"), await ClaimAsync(connections[i % 3], 999_999 - (uint)i));
            }

            Assert.Equal(RendezvousStatus(StatusCode.ResourceExhausted, "rate_limited"), await ClaimAsync(connections[1], 999_000));

            // Three unclaimed invitations per user, wherever they were opened.
            var waiting = new List<AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse>>();
            var opener = new List<ServerConnection>();
            try
            {
                foreach (var node in deployment.Nodes)
                {
                    opener.Add(await ConnectAsync(deployment, node, "erin", erinKey, register: opener.Count == 0));
                }

                for (var i = 0; i < 3; i++)
                {
                    var call = opener[i].Rendezvous.Exchange();
                    waiting.Add(call);
                    await call.RequestStream.WriteAsync(new RendezvousRequest { Open = new RendezvousOpen() });
                    Assert.True(await call.ResponseStream.MoveNext());
                    Assert.Equal(RendezvousResponse.KindOneofCase.Opened, call.ResponseStream.Current.KindCase);
                }

                using var fourth = opener[1].Rendezvous.Exchange();
                await fourth.RequestStream.WriteAsync(new RendezvousRequest { Open = new RendezvousOpen() });
                var refused = await Assert.ThrowsAsync<RpcException>(() => fourth.ResponseStream.MoveNext());
                Assert.Equal(RendezvousStatus(StatusCode.ResourceExhausted, "rate_limited"), (refused.StatusCode, refused.Trailers.GetValue(ErrorTrailer)));
                Assert.Contains("unclaimed", refused.Status.Detail, StringComparison.Ordinal);
            }
            finally
            {
                foreach (var call in waiting)
                {
                    call.Dispose();
                }

                foreach (var connection in opener)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RedisStoppedWhileAnInviteWaitsEndsItWithAClearErrorNotAHang()
    {
        await using var deployment = await StartAsync();
        var alice = await deployment.RegisterAsync("alice", deployment.Route(deployment.Nodes[0]));

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "5m");
        await invite.WaitForCodeAsync();
        await deployment.Redis.StopAsync();

        // Well within the five minutes the client would wait on its own.
        await invite.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, invite.ExitCode);
        var error = invite.Stderr.Trim();
        Assert.StartsWith("parley: error:", error, StringComparison.Ordinal);
        Assert.Contains("redis", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n'));

        // Degraded, the node still invites: both sides on this node meet through its memory.
        Assert.True(await Deployment.EventuallyAsync(async () => (await deployment.HealthAsync(deployment.Nodes[0])).Body.Contains("invitations work only between clients of this node", StringComparison.Ordinal), Wait));
        var bob = await deployment.RegisterAsync("bob", deployment.Route(deployment.Nodes[0]));
        using var local = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var joined = await local.JoinAsync(bob);
        Assert.True(joined.ExitCode == 0, joined.ToString());
        Assert.True(local.ExitCode == 0, local.ToString());
    }

    private static Task<Deployment> StartAsync() =>
        Deployment.StartAsync(nodes: 3, pollInterval: TimeSpan.FromSeconds(5), degradedPollInterval: TimeSpan.FromSeconds(1));

    private static (StatusCode, string?) RendezvousStatus(StatusCode code, string reason) => (code, reason);

    /// <summary>A raw, authenticated gRPC connection to <paramref name="node"/> (registering <paramref name="name"/> first when asked).</summary>
    private static async Task<ServerConnection> ConnectAsync(Deployment deployment, ServerProcess node, string name, IdentityKeyPair identity, bool register = true)
    {
        using var ca = new PinnedCertificateAuthority(deployment.CaPem);
        var connection = ServerConnection.Open(new Uri(node.Url), ca);
        if (register)
        {
            await connection.RegisterAsync(name, identity, invite: null, CancellationToken.None);
        }

        await connection.AuthenticateAsync(name, identity, CancellationToken.None);
        return connection;
    }

    private static async Task<(StatusCode, string?)> ClaimAsync(ServerConnection connection, uint nameplate)
    {
        using var call = connection.Rendezvous.Exchange();
        await call.RequestStream.WriteAsync(new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = nameplate } });
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        return (refused.StatusCode, refused.Trailers.GetValue(ErrorTrailer));
    }

    /// <summary>"paired" or the refusal reason of a claim's first answer.</summary>
    private static async Task<string> FirstAnswerAsync(AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> call)
    {
        try
        {
            Assert.True(await call.ResponseStream.MoveNext());
            return call.ResponseStream.Current.KindCase == RendezvousResponse.KindOneofCase.Paired ? "paired" : call.ResponseStream.Current.KindCase.ToString();
        }
        catch (RpcException e)
        {
            return e.Trailers.GetValue(ErrorTrailer) ?? e.StatusCode.ToString();
        }
    }
}
