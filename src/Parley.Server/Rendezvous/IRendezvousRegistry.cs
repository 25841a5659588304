namespace Parley.Server.Rendezvous;

/// <summary>
/// The live nameplates of a deployment: which are waiting for a claim, which are paired, and which
/// were recently burnt. State lives only as long as an exchange (nothing is written to the
/// database); a burnt nameplate is remembered for one expiry period (at least 10 minutes), so
/// that it is neither handed out again at once nor answered "unknown" to a late joiner.
/// </summary>
internal interface IRendezvousRegistry
{
    /// <summary>A fresh, unpredictable nameplate for <paramref name="owner"/>, side A of a new room.</summary>
    /// <exception cref="Grpc.Core.RpcException">rate_limited: the owner holds too many unclaimed nameplates, or none is free.</exception>
    ValueTask<IRendezvousRoom> OpenAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Joins <paramref name="nameplate"/> as side B; both sides are told they are paired.</summary>
    /// <exception cref="Grpc.Core.RpcException">unknown_nameplate, expired or already_claimed.</exception>
    ValueTask<IRendezvousRoom> ClaimAsync(uint nameplate, string claimer, CancellationToken cancellationToken);
}
