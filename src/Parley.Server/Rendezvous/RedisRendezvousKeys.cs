using System.Globalization;
using StackExchange.Redis;

namespace Parley.Server.Rendezvous;

/// <summary>
/// Where one nameplate lives in Redis: a hash with its state (waiting, paired, ended), owner,
/// expiry and each side's liveness; a stream per direction holding the events for that side
/// (paired, relay frames, closed, end) until its node has written them to the call; and the set
/// of the owner's waiting nameplates. The streams' names are also the pub/sub channels that wake
/// the reading node; the frames themselves never go through pub/sub, so none is lost to a node
/// that was not yet listening.
/// </summary>
internal readonly record struct RedisRendezvousKeys(uint Nameplate)
{
    private const string Prefix = "parley:rdv:";

    internal RedisKey Room => Prefix + Number;

    /// <summary>The events for <paramref name="side"/>: what its node writes to its call.</summary>
    internal RedisKey InboxOf(RendezvousSide side) => Prefix + Number + (side == RendezvousSide.A ? ":a" : ":b");

    internal RedisChannel WakeUpOf(RendezvousSide side) => RedisChannel.Literal(InboxOf(side).ToString());

    internal string Number => Nameplate.ToString(CultureInfo.InvariantCulture);

    /// <summary>The owner's nameplates still waiting for a claim, scored by when they expire.</summary>
    internal static RedisKey Waiting(string owner) => Prefix + "waiting:" + owner;

    /// <summary>The name of a waiting-set key as the claim script builds it from the stored owner.</summary>
    internal const string WaitingPrefix = Prefix + "waiting:";
}
