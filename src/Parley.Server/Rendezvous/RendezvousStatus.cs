using Grpc.Core;
using Parley.Server.Hosting;

namespace Parley.Server.Rendezvous;

/// <summary>
/// How a rendezvous is refused or ends: a gRPC status plus the trailer
/// <see cref="TrailerKey"/> naming the reason, so a client tells "expired" from "unknown" without
/// parsing the message (api.proto, service Rendezvous).
/// </summary>
internal static class RendezvousStatus
{
    internal const string TrailerKey = "parley-rendezvous-error";

    internal const string UnknownNameplateReason = "unknown_nameplate";
    internal const string ExpiredReason = "expired";
    internal const string AlreadyClaimedReason = "already_claimed";
    internal const string MismatchReason = "mismatch";
    internal const string PeerLeftReason = "peer_left";
    internal const string FrameTooLargeReason = "frame_too_large";
    internal const string RateLimitedReason = "rate_limited";
    internal const string OutOfOrderReason = "out_of_order";

    internal static RpcException UnknownNameplate(uint nameplate) =>
        Fail(StatusCode.NotFound, UnknownNameplateReason, $"no invitation has nameplate {nameplate}");

    internal static RpcException Expired(uint nameplate) =>
        Fail(StatusCode.DeadlineExceeded, ExpiredReason, $"the invitation with nameplate {nameplate} has expired");

    internal static RpcException AlreadyClaimed(uint nameplate) =>
        Fail(StatusCode.AlreadyExists, AlreadyClaimedReason, $"the invitation with nameplate {nameplate} is already taken or used");

    internal static RpcException Mismatch() =>
        Fail(StatusCode.Aborted, MismatchReason, "code mismatch: a key confirmation failed; the nameplate is burnt");

    internal static RpcException PeerLeft() =>
        Fail(StatusCode.Aborted, PeerLeftReason, "the other side left; the nameplate is burnt");

    internal static RpcException FrameTooLarge(int size, int limit) =>
        Fail(StatusCode.ResourceExhausted, FrameTooLargeReason, $"a frame of {size} bytes is over the limit of {limit}");

    internal static RpcException RateLimited(string what) =>
        Fail(StatusCode.ResourceExhausted, RateLimitedReason, what);

    internal static RpcException OutOfOrder(string what) =>
        Fail(StatusCode.FailedPrecondition, OutOfOrderReason, what);

    private static RpcException Fail(StatusCode code, string reason, string message)
    {
        ServerMetrics.Refused.WithLabels("rendezvous_" + reason).Inc();
        return new RpcException(new Status(code, message), new Metadata { { TrailerKey, reason } });
    }
}
