using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;

namespace Parley.Server.Rendezvous;

/// <summary>
/// One rendezvous with both sides on this node: a nameplate, the inbox of each side (what the server will write to that side's
/// response stream) and the state machine Waiting → Paired → Ended. Every ending burns the
/// nameplate (through the registry's callback) and completes both inboxes; a side that ended
/// with a refusal finds it in <see cref="EndOf"/>.
/// </summary>
internal sealed class RendezvousRoom : IRendezvousRoom
{
    /// <summary>Frames waiting for a slow reader before the sender itself waits.</summary>
    internal const int InboxCapacity = 64;

    private static readonly RendezvousResponse PairedMessage = new() { Paired = new RendezvousPaired() };
    private static readonly RendezvousResponse PeerClosedMessage = new() { PeerClosed = new RendezvousPeerClosed() };

    private readonly Channel<RendezvousResponse> toA = Inbox();
    private readonly Channel<RendezvousResponse> toB = Inbox();
    private readonly Lock gate = new();
    private readonly Action<RendezvousRoom, bool> onEnded;
    private State state = State.Waiting;
    private bool closedA;
    private bool closedB;
    private RpcException? endA;
    private RpcException? endB;
    private ITimer? expiry;

    internal RendezvousRoom(uint nameplate, string owner, DateTimeOffset expires, Action<RendezvousRoom, bool> onEnded)
    {
        Nameplate = nameplate;
        Owner = owner;
        Expires = expires;
        this.onEnded = onEnded;
        toA.Writer.TryWrite(new RendezvousResponse { Opened = new RendezvousOpened { Nameplate = nameplate, ExpiresUnixMs = expires.ToUnixTimeMilliseconds() } });
    }

    private enum State
    {
        Waiting,
        Paired,
        Ended,
    }

    public uint Nameplate { get; }

    internal string Owner { get; }

    internal DateTimeOffset Expires { get; }

    internal bool IsWaiting
    {
        get
        {
            lock (gate)
            {
                return state == State.Waiting;
            }
        }
    }

    /// <summary>What the server writes to <paramref name="side"/>'s response stream, in order.</summary>
    public ChannelReader<RendezvousResponse> InboxOf(RendezvousSide side) => Channel(side).Reader;

    /// <summary>The refusal <paramref name="side"/>'s call ends with, once its inbox is drained; null for a normal end.</summary>
    public RpcException? EndOf(RendezvousSide side)
    {
        lock (gate)
        {
            return side == RendezvousSide.A ? endA : endB;
        }
    }

    /// <summary>Arms the expiry of an unclaimed nameplate.</summary>
    internal void ExpireWith(TimeProvider time, TimeSpan after)
    {
        lock (gate)
        {
            expiry = time.CreateTimer(_ => Expire(), null, after, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Side B arrives: false unless the room was waiting (then both are told they are paired).</summary>
    internal bool TryPair()
    {
        lock (gate)
        {
            if (state != State.Waiting)
            {
                return false;
            }

            state = State.Paired;
            expiry?.Dispose();
            toA.Writer.TryWrite(PairedMessage);
            toB.Writer.TryWrite(PairedMessage);
            return true;
        }
    }

    /// <summary>
    /// Passes a frame to the other side, waiting while its inbox is full; dropped if the peer has
    /// already closed. Relaying before the pair is complete ends the room (out_of_order). False
    /// when the room is over: the caller stops.
    /// </summary>
    public async ValueTask<bool> RelayAsync(RendezvousSide from, ByteString frame, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (state == State.Waiting)
            {
                EndCore(from, RendezvousStatus.OutOfOrder("no one has joined yet: wait for `paired` before relaying"), RendezvousStatus.PeerLeft(), expired: false);
                return false;
            }

            if (state == State.Ended)
            {
                return false;
            }
        }

        try
        {
            await Channel(Other(from)).Writer.WriteAsync(new RendezvousResponse { Relay = frame }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ChannelClosedException)
        {
            // The peer has closed its side: the frame has nobody to go to, but this side may still
            // close normally. Over only if the whole room is.
            lock (gate)
            {
                return state != State.Ended;
            }
        }
    }

    /// <summary>
    /// <paramref name="side"/> half-closed its request stream: its call ends normally; the peer is
    /// told (after every frame already relayed) and ends when it closes too. Before the pair, the
    /// invitation is withdrawn.
    /// </summary>
    public async ValueTask CloseAsync(RendezvousSide side, CancellationToken cancellationToken)
    {
        bool notifyPeer;
        lock (gate)
        {
            if (state == State.Ended)
            {
                return;
            }

            if (state == State.Waiting)
            {
                EndCore(side, forSide: null, forPeer: null, expired: false);
                return;
            }

            if (side == RendezvousSide.A)
            {
                closedA = true;
            }
            else
            {
                closedB = true;
            }

            notifyPeer = !(closedA && closedB);
            if (!notifyPeer)
            {
                Channel(side).Writer.TryComplete();
                state = State.Ended;
            }
        }

        if (!notifyPeer)
        {
            Ended(expired: false);
            return;
        }

        // The peer is told before this side's inbox completes: completing it ends this side's
        // call, whose end cancels cancellationToken, and a cancelled write would fail the room
        // (peer_left) instead of closing it.
        try
        {
            await Channel(Other(side)).Writer.WriteAsync(PeerClosedMessage, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The peer is already gone.
        }
        finally
        {
            Channel(side).Writer.TryComplete();
        }
    }

    /// <summary>A side reported the peer's key confirmation wrong: both calls end with mismatch.</summary>
    public void Mismatch() => End(RendezvousSide.A, RendezvousStatus.Mismatch(), RendezvousStatus.Mismatch());

    /// <summary>A side's call failed or broke a rule: it ends with <paramref name="forSide"/> (null: it is already gone), the peer with peer_left.</summary>
    public void Fail(RendezvousSide side, RpcException? forSide) => End(side, forSide, RendezvousStatus.PeerLeft());

    private static Channel<RendezvousResponse> Inbox() =>
        System.Threading.Channels.Channel.CreateBounded<RendezvousResponse>(new BoundedChannelOptions(InboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    private static RendezvousSide Other(RendezvousSide side) => side == RendezvousSide.A ? RendezvousSide.B : RendezvousSide.A;

    private Channel<RendezvousResponse> Channel(RendezvousSide side) => side == RendezvousSide.A ? toA : toB;

    private void Expire()
    {
        lock (gate)
        {
            if (state != State.Waiting)
            {
                return;
            }

            EndCore(RendezvousSide.A, RendezvousStatus.Expired(Nameplate), forPeer: null, expired: true);
        }
    }

    private void End(RendezvousSide side, RpcException? forSide, RpcException? forPeer)
    {
        lock (gate)
        {
            if (state == State.Ended)
            {
                return;
            }

            EndCore(side, forSide, forPeer, expired: false);
        }
    }

    /// <summary>Under the lock: records each side's ending, completes both inboxes and burns the nameplate.</summary>
    private void EndCore(RendezvousSide side, RpcException? forSide, RpcException? forPeer, bool expired)
    {
        var wasPaired = state == State.Paired;
        state = State.Ended;
        expiry?.Dispose();
        var peerClosed = side == RendezvousSide.A ? closedB : closedA;
        if (side == RendezvousSide.A)
        {
            endA ??= forSide;
            endB ??= wasPaired && !peerClosed ? forPeer : null;
        }
        else
        {
            endB ??= forSide;
            endA ??= peerClosed ? null : forPeer;
        }

        toA.Writer.TryComplete();
        toB.Writer.TryComplete();
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Room.Ended(s.Expired), (Room: this, Expired: expired), preferLocal: false);
    }

    private void Ended(bool expired) => onEnded(this, expired);
}
