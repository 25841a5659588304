using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using System.Threading.Channels;

namespace Parley.Server.Rendezvous;

/// <summary>
/// A rendezvous as the service drives one side's call through it: what to write to that side,
/// how its call ends, and what the side did. <see cref="RendezvousRoom"/> holds both sides on one
/// node; <see cref="RedisRendezvousSide"/> is one side of a rendezvous whose other side may be on
/// any node.
/// </summary>
internal interface IRendezvousRoom
{
    uint Nameplate { get; }

    /// <summary>What the server writes to <paramref name="side"/>'s response stream, in order; completed when its call is to end.</summary>
    ChannelReader<RendezvousResponse> InboxOf(RendezvousSide side);

    /// <summary>The refusal <paramref name="side"/>'s call ends with, once its inbox is drained; null for a normal end.</summary>
    RpcException? EndOf(RendezvousSide side);

    /// <summary>Passes a frame to the other side (waiting while it is behind); false when the room is over and the caller stops.</summary>
    ValueTask<bool> RelayAsync(RendezvousSide from, ByteString frame, CancellationToken cancellationToken);

    /// <summary><paramref name="side"/> half-closed: its call ends normally, the peer is told; before the pair, the invitation is withdrawn.</summary>
    ValueTask CloseAsync(RendezvousSide side, CancellationToken cancellationToken);

    /// <summary>A side reported the peer's key confirmation wrong: both calls end with mismatch.</summary>
    void Mismatch();

    /// <summary>A side's call failed or broke a rule: it ends with <paramref name="forSide"/> (null: it is already gone), the peer with peer_left.</summary>
    void Fail(RendezvousSide side, RpcException? forSide);
}
