using System.Collections.Concurrent;

namespace Parley.Server.Delivery;

/// <summary>
/// Wakes the Receive streams of a recipient when something was stored for them. A wake-up carries
/// no message: the stream reads the store, so a lost or duplicated signal never loses or repeats
/// a message.
/// </summary>
internal sealed class MailboxSignals
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Listener, byte>> listeners = new(StringComparer.Ordinal);

    /// <summary>Registers a listener for <paramref name="user"/>; dispose it when the stream ends.</summary>
    internal Listener Listen(string user)
    {
        var listener = new Listener(this, user);
        listeners.GetOrAdd(user, _ => new()).TryAdd(listener, 0);
        return listener;
    }

    internal void Notify(string user)
    {
        if (listeners.TryGetValue(user, out var set))
        {
            foreach (var listener in set.Keys)
            {
                listener.Signal();
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
            foreach (var listener in set.Keys)
            {
                listener.Disconnect();
            }
        }
    }

    internal int ConnectedListeners => listeners.Values.Sum(s => s.Count);

    private void Remove(Listener listener)
    {
        if (listeners.TryGetValue(listener.User, out var set))
        {
            set.TryRemove(listener, out _);
        }
    }

    /// <summary>One Receive stream's wake-up: a single pending signal, coalesced.</summary>
    internal sealed class Listener : IDisposable
    {
        private readonly MailboxSignals owner;
        private readonly SemaphoreSlim pending = new(0, 1);
        private readonly CancellationTokenSource disconnected = new();

        internal Listener(MailboxSignals owner, string user)
        {
            this.owner = owner;
            User = user;
        }

        internal string User { get; }

        /// <summary>Cancelled by <see cref="MailboxSignals.Disconnect"/>: the stream must end.</summary>
        internal CancellationToken Disconnected => disconnected.Token;

        internal void Signal()
        {
            try
            {
                pending.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled; the stream will read everything stored when it wakes.
            }
        }

        internal void Disconnect()
        {
            try
            {
                disconnected.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream already ended.
            }
        }

        /// <summary>Waits for a signal or the timeout (a safety net that re-reads the store).</summary>
        internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => pending.WaitAsync(timeout, cancellationToken);

        public void Dispose()
        {
            owner.Remove(this);
            pending.Dispose();
            disconnected.Dispose();
        }
    }
}
