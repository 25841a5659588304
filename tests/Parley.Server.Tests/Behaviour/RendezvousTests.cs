using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Protocol;
using Parley.Protocol.Pake;
using Parley.Server.Hosting;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// The invite-code rendezvous through the real server over TLS, driven by the generated gRPC client
/// and real SPAKE2 sides: pairing, relaying, one claim per side, expiry, burning, limits.
/// </summary>
public sealed class RendezvousTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RightCodeGivesBothSidesTheSameKeyAndThenTheNameplateIsUsedUp()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);

        using var a = await Side.OpenAsync(alice);
        var code = InviteCode.Generate(a.Nameplate);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        var (keyA, keyB) = await RunSpake2Async(a, b, code, InviteCode.Parse(code.ToString()));
        Assert.NotNull(keyA);
        Assert.Equal(keyA, keyB);

        // After the PAKE the server keeps relaying, in order, in both directions.
        await a.SendAsync([1, 2, 3]);
        await b.SendAsync([4]);
        Assert.Equal([1, 2, 3], await b.ReceiveAsync());
        Assert.Equal([4], await a.ReceiveAsync());

        // A half-closes: B is told, then both calls end normally.
        await a.Call.RequestStream.CompleteAsync();
        await a.ExpectEndAsync(StatusCode.OK);
        await b.ExpectAsync(RendezvousResponse.KindOneofCase.PeerClosed);
        await b.Call.RequestStream.CompleteAsync();
        await b.ExpectEndAsync(StatusCode.OK);

        // Single use: the nameplate is burnt, not free for anyone.
        var retry = await Side.ClaimRefusedAsync(bob, a.Nameplate);
        Assert.Equal((StatusCode.AlreadyExists, "already_claimed"), retry);
    }

    [Fact]
    public async Task WrongCodeEndsBothSidesWithMismatchAndBurnsTheNameplate()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        await using var carol = await server.RegisterAsync("carol", oneTimePreKeys: 0);

        using var a = await Side.OpenAsync(alice);
        var code = InviteCode.Generate(a.Nameplate);
        var wrong = OtherWords(code);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        var (keyA, keyB) = await RunSpake2Async(a, b, code, wrong);
        Assert.Null(keyA);
        Assert.Null(keyB);
        await a.ExpectEndAsync(StatusCode.Aborted, "mismatch");
        await b.ExpectEndAsync(StatusCode.Aborted, "mismatch");

        // A retry, even with the right words, is refused: the next try needs a new code.
        Assert.Equal((StatusCode.AlreadyExists, "already_claimed"), await Side.ClaimRefusedAsync(carol, a.Nameplate));
        Assert.Equal((StatusCode.AlreadyExists, "already_claimed"), await Side.ClaimRefusedAsync(bob, a.Nameplate));
    }

    [Fact]
    public async Task UnclaimedNameplateExpiresAndALateClaimIsToldSo()
    {
        await using var server = await TestServer.StartAsync(o => With(o, expiry: TimeSpan.FromSeconds(1)));
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);

        using var a = await Side.OpenAsync(alice);
        Assert.True(a.Expires > DateTimeOffset.UtcNow.AddSeconds(-5) && a.Expires < DateTimeOffset.UtcNow.AddSeconds(5));
        await a.ExpectEndAsync(StatusCode.DeadlineExceeded, "expired");
        Assert.Equal((StatusCode.DeadlineExceeded, "expired"), await Side.ClaimRefusedAsync(bob, a.Nameplate));
    }

    [Fact]
    public async Task ThirdPartyCannotClaimATakenNameplateAndThePairCarriesOn()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        await using var mallory = await server.RegisterAsync("mallory", oneTimePreKeys: 0);

        using var a = await Side.OpenAsync(alice);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        Assert.Equal((StatusCode.AlreadyExists, "already_claimed"), await Side.ClaimRefusedAsync(mallory, a.Nameplate));

        await a.SendAsync([42]);
        Assert.Equal([42], await b.ReceiveAsync());
    }

    [Fact]
    public async Task UnknownNameplateIsNotFound()
    {
        await using var server = await TestServer.StartAsync();
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        Assert.Equal((StatusCode.NotFound, "unknown_nameplate"), await Side.ClaimRefusedAsync(bob, 424242));
    }

    [Fact]
    public async Task ConcurrentInvitationsEachReachTheirOwnPeer()
    {
        const int pairs = 8;
        await using var server = await TestServer.StartAsync();
        var inviters = new List<TestUser>();
        var joiners = new List<TestUser>();
        for (var i = 0; i < pairs; i++)
        {
            inviters.Add(await server.RegisterAsync($"inviter{i}", oneTimePreKeys: 0));
            joiners.Add(await server.RegisterAsync($"joiner{i}", oneTimePreKeys: 0));
        }

        try
        {
            var results = await Task.WhenAll(Enumerable.Range(0, pairs).Select(async i =>
            {
                using var a = await Side.OpenAsync(inviters[i]);
                using var b = await Side.ClaimAsync(joiners[i], a.Nameplate);
                await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);
                var token = RandomNumberGenerator.GetBytes(16);
                var reply = RandomNumberGenerator.GetBytes(16);
                await a.SendAsync(token);
                await b.SendAsync(reply);
                return (a.Nameplate, Sent: token, Received: await b.ReceiveAsync(), Replied: reply, Got: await a.ReceiveAsync());
            }));

            Assert.Equal(pairs, results.Select(r => r.Nameplate).Distinct().Count());
            Assert.All(results, r =>
            {
                Assert.Equal(r.Sent, r.Received);
                Assert.Equal(r.Replied, r.Got);
            });
        }
        finally
        {
            foreach (var user in inviters.Concat(joiners))
            {
                await user.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task FrameOverTheLimitEndsTheRendezvousForBothSides()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);

        using var a = await Side.OpenAsync(alice);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        await a.SendAsync(new byte[server.Options.RendezvousMaxFrameBytes]);
        Assert.Equal(server.Options.RendezvousMaxFrameBytes, (await b.ReceiveAsync()).Length);
        await a.SendAsync(new byte[server.Options.RendezvousMaxFrameBytes + 1]);
        await a.ExpectEndAsync(StatusCode.ResourceExhausted, "frame_too_large");
        await b.ExpectEndAsync(StatusCode.Aborted, "peer_left");
    }

    [Fact]
    public async Task OpeningTooOftenIsRateLimited()
    {
        await using var server = await TestServer.StartAsync(o => With(o, perMinute: 3));
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        for (var i = 0; i < 3; i++)
        {
            using var opened = await Side.OpenAsync(alice);
            await opened.Call.RequestStream.CompleteAsync();
            await opened.ExpectEndAsync(StatusCode.OK);
        }

        using var refused = Side.Start(alice, new RendezvousRequest { Open = new RendezvousOpen() });
        await refused.ExpectEndAsync(StatusCode.ResourceExhausted, "rate_limited");
    }

    [Fact]
    public async Task HoldingTooManyUnclaimedNameplatesIsRefused()
    {
        await using var server = await TestServer.StartAsync(o => With(o, waiting: 2));
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        using var first = await Side.OpenAsync(alice);
        using var second = await Side.OpenAsync(alice);
        using var third = Side.Start(alice, new RendezvousRequest { Open = new RendezvousOpen() });
        await third.ExpectEndAsync(StatusCode.ResourceExhausted, "rate_limited");
    }

    [Fact]
    public async Task FloodingFramesThroughANameplateIsRateLimited()
    {
        await using var server = await TestServer.StartAsync(o => With(o, framesPerSecond: 2));
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        using var a = await Side.OpenAsync(alice);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        try
        {
            for (var i = 0; i < 20; i++)
            {
                await a.SendAsync([(byte)i]);
            }
        }
        catch (RpcException)
        {
            // The server may end the call while frames are still being written.
        }

        await a.ExpectEndAsync(StatusCode.ResourceExhausted, "rate_limited", skipRelays: true);
        await b.ExpectEndAsync(StatusCode.Aborted, "peer_left", skipRelays: true);
    }

    [Fact]
    public async Task SideThatLeavesBurnsTheNameplateAndThePeerIsTold()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        var a = await Side.OpenAsync(alice);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        a.Dispose();
        await b.ExpectEndAsync(StatusCode.Aborted, "peer_left");
        Assert.Equal((StatusCode.AlreadyExists, "already_claimed"), await Side.ClaimRefusedAsync(bob, a.Nameplate));
    }

    [Fact]
    public async Task FramesAfterThePeerClosedAreDroppedAndTheSideStillEndsNormally()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        using var a = await Side.OpenAsync(alice);
        using var b = await Side.ClaimAsync(bob, a.Nameplate);
        await a.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);

        await a.Call.RequestStream.CompleteAsync();
        await a.ExpectEndAsync(StatusCode.OK);
        await b.ExpectAsync(RendezvousResponse.KindOneofCase.PeerClosed);
        await b.SendAsync([1]);
        await b.Call.RequestStream.CompleteAsync();
        await b.ExpectEndAsync(StatusCode.OK);
    }

    [Fact]
    public async Task RelayingBeforeThePeerArrivesIsOutOfOrder()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice", oneTimePreKeys: 0);
        using var a = await Side.OpenAsync(alice);
        await a.SendAsync([1]);
        await a.ExpectEndAsync(StatusCode.FailedPrecondition, "out_of_order");
    }

    [Fact]
    public async Task UnauthenticatedCallerIsRefused()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = server.Connect();
        using var call = connection.Rendezvous.Exchange();

        // The server may refuse the call before the request is written: then the write throws.
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(new RendezvousRequest { Open = new RendezvousOpen() });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    private static ServerOptions With(ServerOptions o, TimeSpan? expiry = null, int? perMinute = null, int? waiting = null, int? framesPerSecond = null) => new()
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        RendezvousExpiry = expiry ?? o.RendezvousExpiry,
        RendezvousPerMinutePerUser = perMinute ?? o.RendezvousPerMinutePerUser,
        RendezvousWaitingPerUser = waiting ?? o.RendezvousWaitingPerUser,
        RendezvousFramesPerSecond = framesPerSecond ?? o.RendezvousFramesPerSecond,
    };

    private static InviteCode OtherWords(InviteCode code)
    {
        while (true)
        {
            var other = InviteCode.Generate(code.Nameplate);
            if (!other.Equals(code))
            {
                return other;
            }
        }
    }

    /// <summary>
    /// SPAKE2 in the RFC 9382 §3.1 order over the rendezvous, as a client does it; a side that finds
    /// the peer's confirmation wrong reports a mismatch. Returns each side's Ke, or null.
    /// </summary>
    private static async Task<(byte[]? A, byte[]? B)> RunSpake2Async(Side a, Side b, InviteCode codeA, InviteCode codeB)
    {
        using var partyA = Spake2Party.StartAsA(codeA, [], []);
        using var partyB = Spake2Party.StartAsB(codeB, [], []);
        await a.SendAsync(partyA.Message);
        await b.SendAsync(partyB.Message);
        var confirmationA = partyA.Finish(await a.ReceiveAsync());
        var confirmationB = partyB.Finish(await b.ReceiveAsync());
        await a.SendAsync(confirmationA);
        byte[] keyB;
        try
        {
            keyB = partyB.VerifyPeerConfirmation(await b.ReceiveAsync()).ToArray();
        }
        catch (ParleyProtocolException e) when (e.Kind == ProtocolErrorKind.CodeMismatch)
        {
            await b.Call.RequestStream.WriteAsync(new RendezvousRequest { Mismatch = new RendezvousMismatch() });
            return (null, null);
        }

        await b.SendAsync(confirmationB);
        return (partyA.VerifyPeerConfirmation(await a.ReceiveAsync()).ToArray(), keyB);
    }

    /// <summary>One side's Exchange call.</summary>
    private sealed class Side(AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> call) : IDisposable
    {
        internal AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> Call { get; } = call;

        internal uint Nameplate { get; private set; }

        internal DateTimeOffset Expires { get; private set; }

        internal static Side Start(TestUser user, RendezvousRequest first)
        {
            var side = new Side(user.Connection.Rendezvous.Exchange());
            side.Call.RequestStream.WriteAsync(first).GetAwaiter().GetResult();
            return side;
        }

        internal static async Task<Side> OpenAsync(TestUser user)
        {
            var side = Start(user, new RendezvousRequest { Open = new RendezvousOpen() });
            var opened = await side.ExpectAsync(RendezvousResponse.KindOneofCase.Opened);
            side.Nameplate = opened.Opened.Nameplate;
            side.Expires = DateTimeOffset.FromUnixTimeMilliseconds(opened.Opened.ExpiresUnixMs);
            return side;
        }

        internal static async Task<Side> ClaimAsync(TestUser user, uint nameplate)
        {
            var side = Start(user, new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = nameplate } });
            await side.ExpectAsync(RendezvousResponse.KindOneofCase.Paired);
            side.Nameplate = nameplate;
            return side;
        }

        internal static async Task<(StatusCode, string?)> ClaimRefusedAsync(TestUser user, uint nameplate)
        {
            using var side = Start(user, new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = nameplate } });
            using var timeout = new CancellationTokenSource(Patience);
            var error = await Assert.ThrowsAsync<RpcException>(() => side.Call.ResponseStream.MoveNext(timeout.Token));
            return (error.StatusCode, error.Trailers.GetValue("parley-rendezvous-error"));
        }

        internal Task SendAsync(byte[] frame) => Call.RequestStream.WriteAsync(new RendezvousRequest { Relay = ByteString.CopyFrom(frame) });

        internal async Task<byte[]> ReceiveAsync() => (await ExpectAsync(RendezvousResponse.KindOneofCase.Relay)).Relay.ToByteArray();

        internal async Task<RendezvousResponse> ExpectAsync(RendezvousResponse.KindOneofCase kind)
        {
            using var timeout = new CancellationTokenSource(Patience);
            Assert.True(await Call.ResponseStream.MoveNext(timeout.Token), $"the call ended while waiting for {kind}");
            Assert.Equal(kind, Call.ResponseStream.Current.KindCase);
            return Call.ResponseStream.Current;
        }

        /// <summary>Reads to the end of the call and checks how it ended.</summary>
        internal async Task ExpectEndAsync(StatusCode status, string? reason = null, bool skipRelays = false)
        {
            using var timeout = new CancellationTokenSource(Patience);
            try
            {
                while (await Call.ResponseStream.MoveNext(timeout.Token))
                {
                    Assert.True(skipRelays && Call.ResponseStream.Current.KindCase == RendezvousResponse.KindOneofCase.Relay, $"unexpected {Call.ResponseStream.Current.KindCase} before the end");
                }

                Assert.Equal(StatusCode.OK, status);
            }
            catch (RpcException e) when (!timeout.IsCancellationRequested)
            {
                Assert.Equal(status, e.StatusCode);
                Assert.Equal(reason, e.Trailers.GetValue("parley-rendezvous-error"));
            }
        }

        public void Dispose() => Call.Dispose();
    }
}
