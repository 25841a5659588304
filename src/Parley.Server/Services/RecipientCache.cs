using System.Collections.Concurrent;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>
/// What a send needs to know about its recipient (registered, not revoked, how full the
/// mailbox is), remembered for <see cref="Lifetime"/>, so that a stream of messages to one user
/// costs one store read a second instead of one per message. On PostgreSQL that read is a round
/// trip per message and took half the server's CPU in the relay benchmark.
/// </summary>
/// <remarks>
/// Only what admits a send is remembered: an unknown user and a revoked one are read every time,
/// so that a registration is seen at once. Every revocation on this node or announced by another
/// (<see cref="Forget"/>) drops the entry before the next send is checked; one this node does not
/// hear of (Redis unreachable) is seen once the entry is a lifetime old. The queue depth of an
/// entry counts up with every message admitted through this node since the read, never down, so
/// it can only overestimate; a send that would find the mailbox full is checked against a fresh
/// read, so every refusal rests on the store's own count.
/// </remarks>
internal sealed class RecipientCache(IServerStore store, TimeProvider time)
{
    internal static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    // Past this many entries, expired ones are dropped when a new one is added.
    private const int PurgeAbove = 10_000;

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly long lifetimeTicks = (long)(Lifetime.TotalSeconds * time.TimestampFrequency);

    // Bumped by every Forget: a read that started before one is not remembered.
    private long forgets;

    /// <summary>
    /// <paramref name="name"/>'s recipient record, or null when no such user is registered. The
    /// queue depth is the remembered one while it is under <paramref name="queueLimit"/>, the
    /// store's own otherwise.
    /// </summary>
    internal async ValueTask<MailboxRecipient?> GetAsync(string name, int queueLimit, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (entries.TryGetValue(name, out var known) && now - known.ReadAt < lifetimeTicks && known.Queued < queueLimit)
        {
            return new MailboxRecipient(Revoked: false, known.Queued);
        }

        var before = Volatile.Read(ref forgets);
        var read = await store.Users.GetRecipientAsync(name, cancellationToken).ConfigureAwait(false);
        if (read is { Revoked: false } recipient && Volatile.Read(ref forgets) == before)
        {
            if (entries.Count > PurgeAbove)
            {
                Purge(now);
            }

            entries[name] = new Entry(recipient.Queued, now);
        }
        else
        {
            entries.TryRemove(name, out _);
        }

        return read;
    }

    /// <summary>A message to <paramref name="name"/> was admitted: it counts in the remembered depth.</summary>
    internal void Admitted(string name)
    {
        if (entries.TryGetValue(name, out var known))
        {
            known.Add();
        }
    }

    /// <summary><paramref name="name"/> was revoked or went to a new identity: read it afresh.</summary>
    internal void Forget(string name)
    {
        Interlocked.Increment(ref forgets);
        entries.TryRemove(name, out _);
    }

    private void Purge(long now)
    {
        foreach (var (name, entry) in entries)
        {
            if (now - entry.ReadAt >= lifetimeTicks)
            {
                entries.TryRemove(KeyValuePair.Create(name, entry));
            }
        }
    }

    private sealed class Entry(int queuedAtRead, long readAt)
    {
        private int admitted;

        internal long ReadAt { get; } = readAt;

        internal int Queued => queuedAtRead + Volatile.Read(ref admitted);

        internal void Add() => Interlocked.Increment(ref admitted);
    }
}
