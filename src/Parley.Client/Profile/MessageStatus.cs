namespace Parley.Client.Profile;

/// <summary>What became of a received message. Only <see cref="Delivered"/> has a text.</summary>
public enum MessageStatus
{
    /// <summary>Decrypted and authenticated; the text is what the sender wrote.</summary>
    Delivered = 1,

    /// <summary>The ciphertext or its header was altered in transit.</summary>
    Tampered = 2,

    /// <summary>A copy of a message that was already decrypted (its key is gone).</summary>
    Replayed = 3,

    /// <summary>It could not be decrypted for another reason (no session, unknown prekey, bad format).</summary>
    Undecryptable = 4,

    /// <summary>It came with an identity key other than the pinned one and was not read.</summary>
    UntrustedIdentity = 5,

    /// <summary>
    /// Not a message: a gap. The peer sent messages before the next one that have not arrived (the
    /// server did not deliver them); <see cref="HistoryEntry.MissingCount"/> says how many.
    /// </summary>
    Missing = 6,
}
