using Parley.Protocol.Identity;

namespace Parley.Protocol.Storage;

/// <summary>
/// The user's own identity and the identities pinned for peers (trust on first use). A changed
/// key is never accepted silently: <see cref="GetTrust"/> reports it and the caller asks the user.
/// </summary>
public interface IIdentityKeyStore
{
    /// <summary>This user's identity.</summary>
    IdentityKeyPair LocalIdentity { get; }

    /// <summary>Whether <paramref name="identity"/> is the one pinned for <paramref name="peer"/>.</summary>
    IdentityTrust GetTrust(string peer, IdentityKey identity);

    /// <summary>Pins <paramref name="identity"/> for <paramref name="peer"/>, replacing any earlier key (the user accepted it).</summary>
    void Pin(string peer, IdentityKey identity);
}

/// <summary>What an identity store knows about a peer's key.</summary>
public enum IdentityTrust
{
    /// <summary>No key is pinned for this peer yet; the first one seen will be.</summary>
    FirstUse = 1,

    /// <summary>The key is the pinned one.</summary>
    Trusted = 2,

    /// <summary>A different key is pinned: the peer re-registered, or someone is in the middle.</summary>
    Changed = 3,
}
