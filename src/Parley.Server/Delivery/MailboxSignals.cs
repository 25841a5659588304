using System.Collections.Concurrent;
using System.Diagnostics;
using Parley.Server.Storage;

namespace Parley.Server.Delivery;

/// <summary>
/// Wakes the Receive streams of a recipient when something was stored for them. A wake-up carries
/// no message: the stream reads the store, so a lost or duplicated signal never loses or repeats
/// a message. On a store that commits in queue order, a stream that has pushed everything stored
/// is also handed new envelopes directly (<see cref="Offer"/>), before their commit; what it is
/// not handed, it reads. One user has at most one live stream: a newer stream takes over
/// (docs/operations.md), here on this node and, through <see cref="Cluster.ClusterLink"/>, on the
/// other nodes.
/// </summary>
internal sealed class MailboxSignals
{
    /// <summary>Most envelopes offered to one stream and not yet taken; more are read from the store.</summary>
    internal const int MaxOffered = 256;

    /// <summary>How long a takeover from another node is remembered for a stream that registers late.</summary>
    internal static readonly TimeSpan TakeOverMemory = TimeSpan.FromSeconds(30);

    private const int MaxRememberedTakeOvers = 10_000;

    // Per user, the listeners as an array replaced whole on every change: nearly always one, and a
    // dictionary per connected user cost several hundred bytes of every idle connection.
    private readonly ConcurrentDictionary<string, Listener[]> listeners = new(StringComparer.Ordinal);

    // The newest generation another node announced per user, so that a stream here that took an
    // older generation but registers only after that announcement still yields to it.
    private readonly ConcurrentDictionary<string, (long Generation, long At)> takeOvers = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a listener for <paramref name="user"/> and ends every other stream of that user on
    /// this node (the newest stream takes over); dispose it when the stream ends.
    /// <paramref name="generation"/> orders streams across nodes (<see cref="TakeOver"/>).
    /// </summary>
    internal Listener Listen(string user, long generation)
    {
        var listener = new Listener(this, user, generation);
        Listener[] older;
        while (true)
        {
            if (listeners.TryGetValue(user, out older!))
            {
                if (listeners.TryUpdate(user, [.. older, listener], older))
                {
                    break;
                }
            }
            else if (listeners.TryAdd(user, [listener]))
            {
                older = [];
                break;
            }
        }

        foreach (var stream in older)
        {
            stream.End(StreamEnd.TakenOver);
        }

        // Generation 0 (Redis was unreachable) orders nothing: such a stream never yields to a memory.
        if (generation > 0 && takeOvers.TryGetValue(user, out var announced) && announced.Generation > generation
            && Environment.TickCount64 - announced.At < (long)TakeOverMemory.TotalMilliseconds)
        {
            listener.End(StreamEnd.TakenOver);
        }

        return listener;
    }

    /// <summary>
    /// Hands <paramref name="envelope"/>, whose write is queued, to the streams of its recipient on
    /// this node that take it (<see cref="Listener.Offer"/>). True when there was a stream and
    /// every one took it: then its commit needs no wake-up (a stream that opens later waits for
    /// the queued writes before its first read). A stream that refused it needs the wake-up.
    /// </summary>
    internal bool Offer(StoredEnvelope envelope)
    {
        if (!listeners.TryGetValue(envelope.Recipient, out var set))
        {
            return false;
        }

        var taken = set.Length > 0;
        foreach (var listener in set)
        {
            taken &= listener.Offer(envelope);
        }

        return taken;
    }

    internal void Notify(string user)
    {
        if (listeners.TryGetValue(user, out var set))
        {
            foreach (var listener in set)
            {
                listener.Signal();
            }
        }
    }

    /// <summary>Wakes every stream on this node: after wake-ups may have been missed (Redis was unreachable).</summary>
    internal void NotifyAll()
    {
        foreach (var set in listeners.Values)
        {
            foreach (var listener in set)
            {
                listener.Signal();
            }
        }
    }

    /// <summary>
    /// A stream of <paramref name="user"/> with <paramref name="generation"/> opened on another
    /// node: ends the streams here that are older (a lower generation).
    /// </summary>
    internal void TakeOver(string user, long generation)
    {
        if (takeOvers.Count >= MaxRememberedTakeOvers)
        {
            var now = Environment.TickCount64;
            foreach (var (name, seen) in takeOvers)
            {
                if (now - seen.At >= (long)TakeOverMemory.TotalMilliseconds)
                {
                    takeOvers.TryRemove(name, out _);
                }
            }
        }

        takeOvers.AddOrUpdate(
            user,
            (generation, Environment.TickCount64),
            (_, seen) => generation > seen.Generation ? (generation, Environment.TickCount64) : seen);
        if (listeners.TryGetValue(user, out var set))
        {
            foreach (var listener in set)
            {
                if (listener.Generation < generation)
                {
                    listener.End(StreamEnd.TakenOver);
                }
            }
        }
    }

    /// <summary>
    /// Ends every Receive stream of <paramref name="user"/> in this process: their certificate was
    /// revoked or the name now belongs to another identity, so what they opened the stream with
    /// no longer holds.
    /// </summary>
    internal void Disconnect(string user)
    {
        if (listeners.TryGetValue(user, out var set))
        {
            foreach (var listener in set)
            {
                listener.End(StreamEnd.Revoked);
            }
        }
    }

    /// <summary>
    /// <see cref="StreamWatchdog"/>'s tick (<see cref="Stopwatch"/> timestamps):
    /// wakes each stream that has not read its mailbox for <paramref name="pollTicks"/>, and ends
    /// each whose write has been stuck for <paramref name="writeTicks"/>.
    /// </summary>
    internal void Check(long now, long pollTicks, long writeTicks)
    {
        foreach (var set in listeners.Values)
        {
            foreach (var listener in set)
            {
                listener.Check(now, pollTicks, writeTicks);
            }
        }
    }

    internal int ConnectedListeners => listeners.Values.Sum(s => s.Length);

    /// <summary>The users with a Receive stream on this node.</summary>
    internal IEnumerable<string> ListeningUsers() => listeners.Where(pair => pair.Value.Length > 0).Select(pair => pair.Key);

    private void Remove(Listener listener)
    {
        while (listeners.TryGetValue(listener.User, out var set))
        {
            var rest = Array.FindAll(set, other => other != listener);
            if (rest.Length == set.Length)
            {
                return;
            }

            // The last one leaves no entry behind: a user who disconnected costs nothing here.
            if (rest.Length == 0
                ? listeners.TryRemove(KeyValuePair.Create(listener.User, set))
                : listeners.TryUpdate(listener.User, rest, set))
            {
                return;
            }
        }
    }

    /// <summary>Why a stream was ended from outside.</summary>
    internal enum StreamEnd
    {
        /// <summary>Not ended from outside.</summary>
        None,

        /// <summary>The user's certificate was revoked or the name re-registered.</summary>
        Revoked,

        /// <summary>A newer stream of the same user opened (on this node or another).</summary>
        TakenOver,

        /// <summary>A write to the stream was stuck for the write timeout: the client stopped reading.</summary>
        SlowReader,
    }

    /// <summary>
    /// One Receive stream's wake-up (a single pending signal, coalesced) and the envelopes handed
    /// to it before their commit.
    /// </summary>
    /// <remarks>
    /// A stream takes offers only while it is live: it has read everything committed for its user
    /// and every offer since went to it. An envelope it is offered then is newer than all it has
    /// pushed, so pushing it at once keeps the order. An offer it refuses (not live, or no room)
    /// is read from the store later, in order; from the refusal on it takes no offers, so nothing
    /// newer overtakes it, until <see cref="GoLive"/> after a read that saw every write queued
    /// before it, and only if no offer was refused since that read began.
    /// </remarks>
    internal sealed class Listener : IDisposable
    {
        private readonly MailboxSignals owner;
        private readonly SemaphoreSlim pending = new(0, 1);
        private readonly CancellationTokenSource disconnected = new();
        private readonly Lock offersGate = new();
        private readonly Queue<StoredEnvelope> offered = new();
        private bool live;
        private long refusals;
        private int ended;

        // Stopwatch timestamps, read by the watchdog's tick.
        private long lastRead = Stopwatch.GetTimestamp();
        private long writingSince;
        private int pollDue;

        internal Listener(MailboxSignals owner, string user, long generation)
        {
            this.owner = owner;
            User = user;
            Generation = generation;
        }

        internal string User { get; }

        /// <summary>Orders the streams of one user across nodes; a higher generation is newer.</summary>
        internal long Generation { get; }

        /// <summary>Cancelled when the stream must end (see <see cref="EndReason"/>).</summary>
        internal CancellationToken Disconnected => disconnected.Token;

        /// <summary>Why <see cref="Disconnected"/> was cancelled; the first reason wins.</summary>
        internal StreamEnd EndReason => (StreamEnd)Volatile.Read(ref ended);

        internal void Signal()
        {
            // Under load nearly every signal finds one already pending; a thrown
            // SemaphoreFullException per message cost more CPU than the rest of the wake-up.
            if (pending.CurrentCount != 0)
            {
                return;
            }

            try
            {
                pending.Release();
            }
            catch (SemaphoreFullException)
            {
                // Signalled concurrently; the stream will read everything stored when it wakes.
            }
            catch (ObjectDisposedException)
            {
                // The stream already ended.
            }
        }

        internal void End(StreamEnd reason)
        {
            if (Interlocked.CompareExchange(ref ended, (int)reason, (int)StreamEnd.None) != (int)StreamEnd.None)
            {
                return;
            }

            try
            {
                disconnected.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream already ended.
            }
        }

        /// <summary>Whether the stream takes offers (see the remarks above).</summary>
        internal bool IsLive
        {
            get
            {
                lock (offersGate)
                {
                    return live;
                }
            }
        }

        /// <summary>How many offers were refused so far: read before a read of the store, passed to <see cref="GoLive"/> after it.</summary>
        internal long Refusals
        {
            get
            {
                lock (offersGate)
                {
                    return refusals;
                }
            }
        }

        /// <summary>Takes <paramref name="envelope"/> to push if the stream is live (true); otherwise the stream will read it.</summary>
        internal bool Offer(StoredEnvelope envelope)
        {
            lock (offersGate)
            {
                if (!live || offered.Count >= MaxOffered)
                {
                    StopTakingOffers();
                    return false;
                }

                offered.Enqueue(envelope);
            }

            Signal();
            return true;
        }

        /// <summary>
        /// The stream read the store after every write queued before it had committed, and found
        /// nothing left to read: it takes offers again unless one was refused since
        /// <paramref name="refusalsBeforeRead"/> (<see cref="Refusals"/> before that read).
        /// </summary>
        internal void GoLive(long refusalsBeforeRead)
        {
            lock (offersGate)
            {
                live = refusals == refusalsBeforeRead;
            }
        }

        /// <summary>
        /// Moves up to <paramref name="room"/> offered envelopes, oldest first, into
        /// <paramref name="into"/>. Any beyond that are dropped and the stream stops taking offers,
        /// in the same step, so that it reads them from the store in order.
        /// </summary>
        internal void TakeOffered(int room, List<StoredEnvelope> into)
        {
            lock (offersGate)
            {
                while (offered.Count > 0 && into.Count < room)
                {
                    into.Add(offered.Dequeue());
                }

                if (offered.Count > 0)
                {
                    offered.Clear();
                    StopTakingOffers();
                }
            }
        }

        /// <summary>
        /// A refusal, under <see cref="offersGate"/>: what was refused is read from the store, so
        /// nothing newer may be taken until <see cref="GoLive"/> after a read that includes it.
        /// </summary>
        private void StopTakingOffers()
        {
            live = false;
            refusals++;
        }

        /// <summary>
        /// Waits for a signal: an offer, a wake-up, the poll (<see cref="TakePollDue"/>), or
        /// whatever else the stream registered <see cref="Signal"/> for (its end, its client's
        /// last ack). No timeout and no token: nothing per wait but the wait itself.
        /// </summary>
        internal Task WaitAsync() => pending.WaitAsync();

        /// <summary>Whether the poll interval passed without a read of the store; the poll clock restarts.</summary>
        internal bool TakePollDue()
        {
            if (Interlocked.Exchange(ref pollDue, 0) == 0)
            {
                return false;
            }

            StoreRead();
            return true;
        }

        /// <summary>The stream read its mailbox: the next poll is due a poll interval from now.</summary>
        internal void StoreRead() => Volatile.Write(ref lastRead, Stopwatch.GetTimestamp());

        /// <summary>A write to the client starts; <see cref="EndWrite"/> when it returns.</summary>
        internal void BeginWrite() => Volatile.Write(ref writingSince, Math.Max(1, Stopwatch.GetTimestamp()));

        internal void EndWrite() => Volatile.Write(ref writingSince, 0);

        internal void Check(long now, long pollTicks, long writeTicks)
        {
            var since = Volatile.Read(ref writingSince);
            if (since != 0 && now - since >= writeTicks)
            {
                End(StreamEnd.SlowReader);
                return;
            }

            if (now - Volatile.Read(ref lastRead) >= pollTicks && Interlocked.Exchange(ref pollDue, 1) == 0)
            {
                Signal();
            }
        }

        public void Dispose()
        {
            owner.Remove(this);
            pending.Dispose();
            disconnected.Dispose();
        }
    }
}
