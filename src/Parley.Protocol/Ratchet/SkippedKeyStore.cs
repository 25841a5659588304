using System.Security.Cryptography;

namespace Parley.Protocol.Ratchet;

/// <summary>
/// Message keys derived for messages that have not arrived yet (Double Ratchet §3.2
/// MKSKIPPED), oldest first. Bounded by <see cref="RatchetLimits.MaxStoredSkippedKeys"/>: when
/// full, the oldest key is evicted and its message can no longer be decrypted.
/// </summary>
internal sealed class SkippedKeyStore
{
    private readonly List<SkippedKey> keys = [];

    internal int Count => keys.Count;

    internal IReadOnlyList<SkippedKey> Keys => keys;

    internal int IndexOf(ReadOnlySpan<byte> ratchetKey, uint counter)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i].Counter == counter && ratchetKey.SequenceEqual(keys[i].RatchetKey))
            {
                return i;
            }
        }

        return -1;
    }

    internal SkippedKey this[int index] => keys[index];

    /// <summary>Removes a key once its message decrypted: a key is used at most once.</summary>
    internal void RemoveAt(int index)
    {
        CryptographicOperations.ZeroMemory(keys[index].MessageKey);
        keys.RemoveAt(index);
    }

    internal void Add(SkippedKey key)
    {
        keys.Add(key);
        var excess = keys.Count - RatchetLimits.MaxStoredSkippedKeys;
        if (excess > 0)
        {
            for (var i = 0; i < excess; i++)
            {
                CryptographicOperations.ZeroMemory(keys[i].MessageKey);
            }

            keys.RemoveRange(0, excess);
        }
    }

    internal void Clear()
    {
        foreach (var key in keys)
        {
            CryptographicOperations.ZeroMemory(key.MessageKey);
        }

        keys.Clear();
    }
}

/// <summary>One stored message key: the chain it belongs to (the sender's ratchet key) and its counter.</summary>
internal sealed record SkippedKey(byte[] RatchetKey, uint Counter, byte[] MessageKey);
