using System.Collections.Concurrent;
using Parley.Protocol.Identity;

namespace Parley.Protocol.Storage;

/// <summary>An <see cref="IIdentityKeyStore"/> in memory: for tests, benchmarks and short-lived tools.</summary>
public sealed class InMemoryIdentityKeyStore(IdentityKeyPair localIdentity) : IIdentityKeyStore
{
    private readonly ConcurrentDictionary<string, IdentityKey> pinned = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public IdentityKeyPair LocalIdentity { get; } = localIdentity ?? throw new ArgumentNullException(nameof(localIdentity));

    /// <inheritdoc/>
    public IdentityTrust GetTrust(string peer, IdentityKey identity) =>
        !pinned.TryGetValue(peer, out var known) ? IdentityTrust.FirstUse
        : known.Equals(identity) ? IdentityTrust.Trusted
        : IdentityTrust.Changed;

    /// <inheritdoc/>
    public void Pin(string peer, IdentityKey identity) => pinned[peer] = identity;
}
