using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Server.Cluster;
using StackExchange.Redis;

namespace Parley.Server.Rendezvous;

/// <summary>
/// One side of a rendezvous kept in Redis, as this node serves it; the other side may be on any
/// node. The state machine Waiting → Paired → Ended is the hash's, changed only by Lua scripts
/// (atomic, so two nodes never both pair or both end a room); what this side is to be told
/// arrives in its stream, in order, and a pump writes it to the call. The pump is woken by a
/// pub/sub message on the stream's name and re-reads once a second anyway, so nothing is lost to
/// a wake-up sent before it listened. While paired it also stamps this side alive; a peer whose
/// node stopped stamping for <see cref="PeerSilence"/> is taken to have left.
/// </summary>
internal sealed partial class RedisRendezvousSide : IRendezvousRoom
{
    /// <summary>A peer silent this long (its node died) has left.</summary>
    internal static readonly TimeSpan PeerSilence = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ReRead = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StampEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FullRetry = TimeSpan.FromMilliseconds(20);
    private static readonly RendezvousResponse PairedMessage = new() { Paired = new RendezvousPaired() };
    private static readonly RendezvousResponse PeerClosedMessage = new() { PeerClosed = new RendezvousPeerClosed() };

    // -1: over; 0: the peer's stream is full (retry); 1: relayed, or dropped because the peer closed.
    private const string RelayScript = """
        if redis.call('HGET', KEYS[1], 'state') ~= 'paired' then return -1 end
        if redis.call('HGET', KEYS[1], ARGV[3]) then return 1 end
        if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('XADD', KEYS[2], '*', 'k', 'relay', 'd', ARGV[1])
        redis.call('PUBLISH', KEYS[2], '')
        return 1
        """;

    // 0: not paired; 1: the peer is told; 2: both sides closed, the nameplate is used.
    private const string CloseScript = """
        if redis.call('HGET', KEYS[1], 'state') ~= 'paired' then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], 1)
        if redis.call('HGET', KEYS[1], ARGV[2]) then
          redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', 'used')
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          return 2
        end
        redis.call('XADD', KEYS[2], '*', 'k', 'closed')
        redis.call('PUBLISH', KEYS[2], '')
        return 1
        """;

    // Ends a live room (or only a waiting one, ARGV[5] = 'waiting'): burns the nameplate and tells
    // each side that has not closed its reason, if any. 1 when this call ended it.
    private const string EndScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state or state == 'ended' then return 0 end
        if ARGV[5] == 'waiting' and state ~= 'waiting' then return 0 end
        if state == 'waiting' then
          redis.call('ZREM', ARGV[7] .. redis.call('HGET', KEYS[1], 'owner'), ARGV[6])
        else
          if ARGV[1] ~= '' and not redis.call('HGET', KEYS[1], 'closed_a') then
            redis.call('XADD', KEYS[2], '*', 'k', 'end', 'd', ARGV[1])
            redis.call('PUBLISH', KEYS[2], '')
          end
          if ARGV[2] ~= '' and not redis.call('HGET', KEYS[1], 'closed_b') then
            redis.call('XADD', KEYS[3], '*', 'k', 'end', 'd', ARGV[2])
            redis.call('PUBLISH', KEYS[3], '')
          end
        end
        redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', ARGV[4])
        for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
        return 1
        """;

    // 1: live; 0: no longer paired (ended or gone); -1: the peer's node stopped stamping.
    private const string StampScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if state == 'waiting' then return 1 end
        if state ~= 'paired' then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('HSET', KEYS[1], ARGV[1], now)
        for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
        if not redis.call('HGET', KEYS[1], ARGV[3]) then
          local peer = tonumber(redis.call('HGET', KEYS[1], ARGV[2]))
          if peer and now - peer > tonumber(ARGV[4]) then return -1 end
        end
        return 1
        """;

    private readonly ClusterLink cluster;
    private readonly RedisRendezvousKeys keys;
    private readonly RendezvousSide side;
    private readonly TimeSpan burntMemory;
    private readonly ILogger logger;
    private readonly Channel<RendezvousResponse> inbox = Channel.CreateBounded<RendezvousResponse>(new BoundedChannelOptions(RendezvousRoom.InboxCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock gate = new();
    private bool paired;
    private bool ended;
    private RpcException? end;
    private ITimer? expiry;
    private CancellationTokenSource? pumping;

    private RedisRendezvousSide(ClusterLink cluster, uint nameplate, RendezvousSide side, TimeSpan burntMemory, ILogger logger)
    {
        this.cluster = cluster;
        keys = new RedisRendezvousKeys(nameplate);
        this.side = side;
        this.burntMemory = burntMemory;
        this.logger = logger;
    }

    public uint Nameplate => keys.Nameplate;

    /// <summary>Side A of a nameplate just opened in Redis: told so at once, expires unclaimed after <paramref name="expiresIn"/>.</summary>
    internal static RedisRendezvousSide Opened(ClusterLink cluster, uint nameplate, DateTimeOffset expires, TimeSpan expiresIn, TimeSpan burntMemory, TimeProvider time, ILogger logger)
    {
        var opened = new RedisRendezvousSide(cluster, nameplate, RendezvousSide.A, burntMemory, logger);
        opened.inbox.Writer.TryWrite(new RendezvousResponse { Opened = new RendezvousOpened { Nameplate = nameplate, ExpiresUnixMs = expires.ToUnixTimeMilliseconds() } });
        opened.expiry = time.CreateTimer(static s => _ = ((RedisRendezvousSide)s!).ExpireAsync(), opened, expiresIn, Timeout.InfiniteTimeSpan);
        opened.Start();
        return opened;
    }

    /// <summary>Side B of a nameplate just claimed in Redis; `paired` is already in its stream.</summary>
    internal static RedisRendezvousSide Claimed(ClusterLink cluster, uint nameplate, TimeSpan burntMemory, ILogger logger)
    {
        var claimed = new RedisRendezvousSide(cluster, nameplate, RendezvousSide.B, burntMemory, logger);
        claimed.Start();
        return claimed;
    }

    public ChannelReader<RendezvousResponse> InboxOf(RendezvousSide side) => inbox.Reader;

    public RpcException? EndOf(RendezvousSide side)
    {
        lock (gate)
        {
            return end;
        }
    }

    public async ValueTask<bool> RelayAsync(RendezvousSide from, ByteString frame, CancellationToken cancellationToken)
    {
        bool isPaired;
        lock (gate)
        {
            if (ended)
            {
                return false;
            }

            isPaired = paired;
        }

        if (!isPaired)
        {
            EndEverywhere(RendezvousStatus.OutOfOrder("no one has joined yet: wait for `paired` before relaying"), RendezvousStatus.PeerLeftReason, "used");
            return false;
        }

        var peer = Other(side);
        var peerClosed = peer == RendezvousSide.A ? "closed_a" : "closed_b";
        while (true)
        {
            long result;
            try
            {
                result = (long)await Database().ScriptEvaluateAsync(
                    RelayScript,
                    [keys.Room, keys.InboxOf(peer)],
                    [frame.Memory, RendezvousRoom.InboxCapacity, peerClosed]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Lost(e);
                return false;
            }

            switch (result)
            {
                case 1:
                    return true;
                case 0:
                    // The peer's node is behind: wait as the in-memory room's full inbox does.
                    await Task.Delay(FullRetry, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    return false;
            }
        }
    }

    public async ValueTask CloseAsync(RendezvousSide side, CancellationToken cancellationToken)
    {
        bool wasPaired;
        lock (gate)
        {
            if (ended)
            {
                return;
            }

            wasPaired = paired;
        }

        if (!wasPaired)
        {
            // Withdrawn before anyone joined (or before this side heard so): burnt, no refusal here.
            EndEverywhere(forThisSide: null, RendezvousStatus.PeerLeftReason, "used");
            return;
        }

        try
        {
            var mine = this.side == RendezvousSide.A ? "closed_a" : "closed_b";
            var theirs = this.side == RendezvousSide.A ? "closed_b" : "closed_a";
            var result = (long)await Database().ScriptEvaluateAsync(
                CloseScript,
                [keys.Room, keys.InboxOf(Other(this.side))],
                [mine, theirs, (long)burntMemory.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false);

            // 0: the room already ended elsewhere; how is in this side's stream, for the pump.
            if (result != 0)
            {
                Finish(null);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Lost(e);
        }
    }

    public void Mismatch() => EndEverywhere(RendezvousStatus.Mismatch(), RendezvousStatus.MismatchReason, "used");

    public void Fail(RendezvousSide side, RpcException? forSide) => EndEverywhere(forSide, RendezvousStatus.PeerLeftReason, "used");

    private static RendezvousSide Other(RendezvousSide side) => side == RendezvousSide.A ? RendezvousSide.B : RendezvousSide.A;

    private static RpcException Refusal(string reason, uint nameplate) => reason switch
    {
        RendezvousStatus.MismatchReason => RendezvousStatus.Mismatch(),
        RendezvousStatus.ExpiredReason => RendezvousStatus.Expired(nameplate),
        _ => RendezvousStatus.PeerLeft(),
    };

    private IDatabase Database() => cluster.Database ?? throw new RedisException("redis is unreachable");

    private void Start() => _ = PumpAsync();

    /// <summary>Ends this side with <paramref name="forThisSide"/> at once, and the room in Redis (telling the peer <paramref name="peerReason"/>) in the background.</summary>
    private void EndEverywhere(RpcException? forThisSide, string peerReason, string endReason, bool onlyWaiting = false)
    {
        if (!Finish(forThisSide))
        {
            return;
        }

        _ = EndRoomAsync(peerReason, endReason, onlyWaiting);
    }

    private async Task<bool> EndRoomAsync(string peerReason, string endReason, bool onlyWaiting)
    {
        try
        {
            var forA = side == RendezvousSide.A ? string.Empty : peerReason;
            var forB = side == RendezvousSide.B ? string.Empty : peerReason;
            var result = await Database().ScriptEvaluateAsync(
                EndScript,
                [keys.Room, keys.InboxOf(RendezvousSide.A), keys.InboxOf(RendezvousSide.B)],
                [forA, forB, (long)burntMemory.TotalMilliseconds, endReason, onlyWaiting ? "waiting" : "live", keys.Number, RedisRendezvousKeys.WaitingPrefix]).ConfigureAwait(false);
            return (long)result == 1;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The peer finds out by its own link failing or, if Redis stays up, by this side's silence.
            LogEndNotStored(logger, keys.Nameplate, e.Message);
            return false;
        }
    }

    /// <summary>The unclaimed nameplate's expiry: ends A with `expired` unless a claim came first (on any node).</summary>
    private async Task ExpireAsync()
    {
        lock (gate)
        {
            if (ended || paired)
            {
                return;
            }
        }

        // False also when Redis is unreachable: then the pump's own failure ends this side.
        if (await EndRoomAsync(string.Empty, RendezvousStatus.ExpiredReason, onlyWaiting: true).ConfigureAwait(false))
        {
            Finish(RendezvousStatus.Expired(keys.Nameplate));
        }
    }

    /// <summary>This side ends: its inbox completes (after what is in it) and the pump stops. False if it had already ended.</summary>
    private bool Finish(RpcException? refusal)
    {
        lock (gate)
        {
            if (ended)
            {
                return false;
            }

            ended = true;
            end = refusal;
            expiry?.Dispose();
        }

        inbox.Writer.TryComplete();
        Volatile.Read(ref pumping)?.Cancel();
        return true;
    }

    /// <summary>Redis went away under this side: it cannot reach its peer, so it ends with a clear status rather than waiting.</summary>
    private void Lost(Exception e)
    {
        LogLost(logger, keys.Nameplate, e.Message);
        Finish(new RpcException(new Status(StatusCode.Unavailable, "the link between server nodes (redis) was lost during the rendezvous; the code is void — ask for a new one")));
    }

    private async Task PumpAsync()
    {
        // Ended by Finish; disposed only here, after which Finish has nothing more to cancel.
        using var stop = new CancellationTokenSource();
        var cancellationToken = stop.Token;
        lock (gate)
        {
            if (ended)
            {
                return;
            }

            pumping = stop;
        }

        var channel = keys.WakeUpOf(side);
        var stream = keys.InboxOf(side);
        Action<RedisChannel, RedisValue> onWake = (_, _) => wake.Writer.TryWrite(true);
        ISubscriber? subscriber = null;
        RedisValue position = "0-0";
        var lastStamp = DateTimeOffset.MinValue;
        var goneOnce = false;
        try
        {
            subscriber = cluster.Subscriber ?? throw new RedisException("redis is unreachable");
            await subscriber.SubscribeAsync(channel, onWake).WaitAsync(cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                var entries = await Database().StreamReadAsync(stream, position, RendezvousRoom.InboxCapacity).WaitAsync(cancellationToken).ConfigureAwait(false);
                foreach (var entry in entries)
                {
                    position = entry.Id;
                    if (!await DeliverAsync(entry, cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                if (entries.Length > 0)
                {
                    // Read and passed on: gone from Redis, which is what lets the sender go on.
                    await Database().StreamDeleteAsync(stream, [.. entries.Select(e => e.Id)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                // Stamped on time even while frames keep coming, so the peer never takes a busy side for a dead one.
                if (DateTimeOffset.UtcNow - lastStamp >= StampEvery || (goneOnce && entries.Length == 0))
                {
                    lastStamp = DateTimeOffset.UtcNow;
                    switch ((long)await StampAsync(cancellationToken).ConfigureAwait(false))
                    {
                        case -1:
                            EndEverywhere(RendezvousStatus.PeerLeft(), string.Empty, "used");
                            return;
                        case 0 when goneOnce && entries.Length == 0:
                            // Ended elsewhere with nothing left for this side to read.
                            Finish(IsPaired() ? RendezvousStatus.PeerLeft() : RendezvousStatus.Expired(keys.Nameplate));
                            return;
                        case 0:
                            // An end may have been written since the read above: read once more first.
                            goneOnce = true;
                            continue;
                    }
                }

                if (entries.Length > 0)
                {
                    continue;
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ReRead);
                try
                {
                    await wake.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The periodic re-read.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // This side ended.
        }
        catch (ChannelClosedException)
        {
            // This side ended while an event was being passed on.
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Lost(e);
        }
        finally
        {
            if (subscriber is not null)
            {
                try
                {
                    await subscriber.UnsubscribeAsync(channel, onWake).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Gone with the connection; StackExchange.Redis does not renew it after this.
                }
            }
        }
    }

    private bool IsPaired()
    {
        lock (gate)
        {
            return paired;
        }
    }

    private async Task<RedisResult> StampAsync(CancellationToken cancellationToken)
    {
        var (mine, theirs, theirClose) = side == RendezvousSide.A ? ("seen_a", "seen_b", "closed_b") : ("seen_b", "seen_a", "closed_a");
        return await Database().ScriptEvaluateAsync(
            StampScript,
            [keys.Room, keys.InboxOf(RendezvousSide.A), keys.InboxOf(RendezvousSide.B)],
            [mine, theirs, theirClose, (long)PeerSilence.TotalMilliseconds, (long)burntMemory.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one event to the call; false when it ended this side.</summary>
    private async ValueTask<bool> DeliverAsync(StreamEntry entry, CancellationToken cancellationToken)
    {
        switch ((string?)entry["k"])
        {
            case "paired":
                lock (gate)
                {
                    paired = true;
                    expiry?.Dispose();
                }

                await inbox.Writer.WriteAsync(PairedMessage, cancellationToken).ConfigureAwait(false);
                return true;
            case "relay":
                var frame = (byte[]?)entry["d"] ?? [];
                await inbox.Writer.WriteAsync(new RendezvousResponse { Relay = UnsafeByteOperations.UnsafeWrap(frame) }, cancellationToken).ConfigureAwait(false);
                return true;
            case "closed":
                await inbox.Writer.WriteAsync(PeerClosedMessage, cancellationToken).ConfigureAwait(false);
                return true;
            case "end":
                Finish(Refusal((string?)entry["d"] ?? string.Empty, keys.Nameplate));
                return false;
            default:
                LogBadEvent(logger, keys.Nameplate);
                return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "rendezvous {Nameplate}: redis lost mid-exchange ({Reason}); the side on this node ends")]
    private static partial void LogLost(ILogger logger, uint nameplate, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rendezvous {Nameplate}: could not record its end in redis ({Reason})")]
    private static partial void LogEndNotStored(ILogger logger, uint nameplate, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rendezvous {Nameplate}: ignored a malformed event")]
    private static partial void LogBadEvent(ILogger logger, uint nameplate);
}
