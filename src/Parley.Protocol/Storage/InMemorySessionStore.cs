using System.Collections.Concurrent;

namespace Parley.Protocol.Storage;

/// <summary>An <see cref="ISessionStore"/> in memory: for tests, benchmarks and short-lived tools.</summary>
public sealed class InMemorySessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, byte[]> sessions = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public byte[]? LoadSession(string peer) => sessions.GetValueOrDefault(peer);

    /// <inheritdoc/>
    public void StoreSession(string peer, byte[] session) => sessions[peer] = session;
}
