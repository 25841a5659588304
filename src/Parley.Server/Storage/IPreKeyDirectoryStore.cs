namespace Parley.Server.Storage;

/// <summary>
/// Users' public prekeys, stored as the serialized wire messages (SignedPreKey, KemPreKey,
/// OneTimePreKey of protocol.proto) keyed by owner and id; the server does not interpret them.
/// The owner must be a registered user (the engines enforce it with a foreign key and throw).
/// </summary>
internal interface IPreKeyDirectoryStore
{
    /// <summary>Replaces the owner's signed prekey.</summary>
    Task SetSignedPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken);

    /// <summary>Replaces the owner's last-resort KEM prekey.</summary>
    Task SetLastResortKemPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken);

    /// <summary>Adds one-time X25519 prekeys; an id already stored for the owner is ignored.</summary>
    Task AddOneTimePreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken);

    /// <summary>Adds one-time KEM prekeys; an id already stored for the owner is ignored.</summary>
    Task AddOneTimeKemPreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a bundle in one transaction: the signed prekey, one one-time KEM prekey (deleted) or
    /// else the last-resort KEM prekey (kept), and one one-time prekey (deleted) if any is left.
    /// Concurrent callers never receive the same one-time key. Null if the owner has no signed
    /// prekey or no KEM prekey at all.
    /// </summary>
    Task<StoredBundle?> TakeBundleAsync(string owner, CancellationToken cancellationToken);

    /// <summary>How many one-time prekeys and one-time KEM prekeys the owner has left.</summary>
    Task<(int OneTime, int OneTimeKem)> CountPreKeysAsync(string owner, CancellationToken cancellationToken);
}

/// <summary>The serialized wire parts of one bundle.</summary>
internal sealed record StoredBundle(byte[] SignedPreKey, byte[] KemPreKey, byte[]? OneTimePreKey);
