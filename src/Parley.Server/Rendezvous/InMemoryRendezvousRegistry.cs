using System.Security.Cryptography;
using Parley.Server.Hosting;

namespace Parley.Server.Rendezvous;

/// <summary>
/// <see cref="IRendezvousRegistry"/> in this process's memory: the registry of a single node, and
/// the fallback of a node whose Redis is unreachable (then both sides must reach this node). Nameplates are drawn uniformly from
/// the CSPRNG among the free numbers of a range that grows with use (1–999 while few are taken,
/// then 1–9999, up to 999999), so they stay short and cannot be predicted.
/// </summary>
internal sealed class InMemoryRendezvousRegistry(ServerOptions options, TimeProvider time) : IRendezvousRegistry
{
    private const uint SmallestRange = 999;

    /// <summary>A burnt nameplate is remembered at least this long, however short the expiry.</summary>
    internal static readonly TimeSpan MinimumBurntMemory = TimeSpan.FromMinutes(10);

    private readonly Lock gate = new();
    private readonly Dictionary<uint, RendezvousRoom> rooms = [];
    private readonly Dictionary<uint, Burnt> burnt = [];

    /// <summary>Rooms open now (waiting or paired).</summary>
    internal int LiveCount
    {
        get
        {
            lock (gate)
            {
                return rooms.Count;
            }
        }
    }

    public ValueTask<IRendezvousRoom> OpenAsync(string owner, CancellationToken cancellationToken) => ValueTask.FromResult<IRendezvousRoom>(Open(owner));

    public ValueTask<IRendezvousRoom> ClaimAsync(uint nameplate, string claimer, CancellationToken cancellationToken) => ValueTask.FromResult<IRendezvousRoom>(Claim(nameplate, claimer));

    /// <summary>A fresh nameplate for <paramref name="owner"/>, side A of a new room on this node.</summary>
    internal RendezvousRoom Open(string owner)
    {
        RendezvousRoom room;
        lock (gate)
        {
            var now = time.GetUtcNow();
            Sweep(now);
            if (rooms.Values.Count(r => r.Owner == owner && r.IsWaiting) >= options.RendezvousWaitingPerUser)
            {
                throw RendezvousStatus.RateLimited($"you already have {options.RendezvousWaitingPerUser} unclaimed invitations; wait for one to be used or to expire");
            }

            room = new RendezvousRoom(FreeNameplate(), owner, now + options.RendezvousExpiry, Ended);
            rooms.Add(room.Nameplate, room);
        }

        room.ExpireWith(time, options.RendezvousExpiry);
        return room;
    }

    /// <summary>Joins a nameplate opened on this node as side B.</summary>
    internal RendezvousRoom Claim(uint nameplate, string claimer)
    {
        lock (gate)
        {
            if (rooms.TryGetValue(nameplate, out var room))
            {
                if (room.Expires <= time.GetUtcNow() && room.IsWaiting)
                {
                    throw RendezvousStatus.Expired(nameplate);
                }

                return room.TryPair() ? room : throw RendezvousStatus.AlreadyClaimed(nameplate);
            }

            if (burnt.TryGetValue(nameplate, out var ended) && ended.Until > time.GetUtcNow())
            {
                throw ended.Expired ? RendezvousStatus.Expired(nameplate) : RendezvousStatus.AlreadyClaimed(nameplate);
            }

            throw RendezvousStatus.UnknownNameplate(nameplate);
        }
    }

    /// <summary>The room's callback when it ends: the nameplate stays burnt for one expiry period, at least 10 minutes.</summary>
    private void Ended(RendezvousRoom room, bool expired)
    {
        lock (gate)
        {
            if (rooms.TryGetValue(room.Nameplate, out var current) && ReferenceEquals(current, room))
            {
                rooms.Remove(room.Nameplate);
                var memory = options.RendezvousExpiry > MinimumBurntMemory ? options.RendezvousExpiry : MinimumBurntMemory;
                burnt[room.Nameplate] = new Burnt(time.GetUtcNow() + memory, expired);
            }
        }
    }

    private uint FreeNameplate()
    {
        var taken = rooms.Count + burnt.Count;
        var range = SmallestRange;
        while (taken * 2 >= range && range < Protocol.Pake.InviteCode.MaxNameplate)
        {
            range = (range * 10) + 9;
        }

        if (taken >= range)
        {
            throw RendezvousStatus.RateLimited("no nameplate is free; retry shortly");
        }

        while (true)
        {
            var candidate = (uint)RandomNumberGenerator.GetInt32(1, (int)range + 1);
            if (!rooms.ContainsKey(candidate) && !burnt.ContainsKey(candidate))
            {
                return candidate;
            }
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (nameplate, ended) in burnt)
        {
            if (ended.Until <= now)
            {
                burnt.Remove(nameplate);
            }
        }
    }

    private readonly record struct Burnt(DateTimeOffset Until, bool Expired);
}
