using System.Collections.Concurrent;
using Parley.Protocol.PreKeys;

namespace Parley.Protocol.Storage;

/// <summary>An <see cref="IPreKeyStore"/> in memory: for tests, benchmarks and short-lived tools.</summary>
public sealed class InMemoryPreKeyStore : IPreKeyStore
{
    private readonly ConcurrentDictionary<uint, SignedPreKeyRecord> signed = new();
    private readonly ConcurrentDictionary<uint, OneTimePreKeyRecord> oneTime = new();
    private readonly ConcurrentDictionary<uint, KemPreKeyRecord> kem = new();

    /// <summary>How many one-time prekeys are left.</summary>
    public int OneTimePreKeyCount => oneTime.Count;

    /// <summary>Stores a signed prekey.</summary>
    public void Add(SignedPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        signed[record.Id] = record;
    }

    /// <summary>Stores a one-time prekey.</summary>
    public void Add(OneTimePreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        oneTime[record.Id] = record;
    }

    /// <summary>Stores a KEM prekey.</summary>
    public void Add(KemPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        kem[record.Id] = record;
    }

    /// <inheritdoc/>
    public SignedPreKeyRecord? GetSignedPreKey(uint id) => signed.GetValueOrDefault(id);

    /// <inheritdoc/>
    public OneTimePreKeyRecord? GetOneTimePreKey(uint id) => oneTime.GetValueOrDefault(id);

    /// <inheritdoc/>
    public KemPreKeyRecord? GetKemPreKey(uint id) => kem.GetValueOrDefault(id);

    /// <inheritdoc/>
    public void ConsumePreKeys(uint? oneTimePreKeyId, uint kemPreKeyId)
    {
        if (oneTimePreKeyId is { } id && oneTime.TryRemove(id, out var used))
        {
            used.Erase();
        }

        if (kem.TryGetValue(kemPreKeyId, out var kemKey) && !kemKey.LastResort && kem.TryRemove(kemPreKeyId, out _))
        {
            kemKey.Erase();
        }
    }
}
