using Parley.Protocol.PreKeys;

namespace Parley.Protocol.Storage;

/// <summary>
/// Where a user's own prekeys (with their private halves) live. The protocol reads them when a
/// PreKeyMessage arrives and tells the store which were consumed; persistence is the caller's.
/// </summary>
public interface IPreKeyStore
{
    /// <summary>The signed prekey with this id, or null.</summary>
    SignedPreKeyRecord? GetSignedPreKey(uint id);

    /// <summary>The one-time prekey with this id, or null if unknown or already used.</summary>
    OneTimePreKeyRecord? GetOneTimePreKey(uint id);

    /// <summary>The KEM prekey with this id, or null if unknown or already used.</summary>
    KemPreKeyRecord? GetKemPreKey(uint id);

    /// <summary>
    /// Called once a PreKeyMessage that used these keys decrypted: the one-time prekey (if any)
    /// and a non-last-resort KEM prekey must be deleted so they are never used again.
    /// </summary>
    void ConsumePreKeys(uint? oneTimePreKeyId, uint kemPreKeyId);
}
