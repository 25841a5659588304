using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Storage;

namespace Parley.Client.Profile;

/// <summary>The user's own sealed prekeys: the <see cref="IPreKeyStore"/> half of the profile.</summary>
public sealed partial class ProfileStore : IPreKeyStore
{
    private const string SignedKind = "signed";
    private const string OneTimeKind = "one-time";
    private const string KemKind = "kem";

    /// <summary>The id of the signed prekey added last (the one to publish), or null before the first.</summary>
    public uint? CurrentSignedPreKeyId => Read(() => MetaId("current_signed_prekey_id"));

    /// <summary>The id of the last-resort KEM prekey added last (the one to publish), or null before the first.</summary>
    public uint? CurrentLastResortKemPreKeyId => Read(() => MetaId("current_last_resort_kem_prekey_id"));

    /// <summary>A fresh prekey id: 1, 2, 3, … across all kinds, persisted, never handed out twice.</summary>
    public uint NextPreKeyId() => Write(() =>
    {
        var next = Scalar("UPDATE meta SET value = value + 1 WHERE key = 'next_prekey_id' RETURNING value - 1") as long?
            ?? throw ProfileError.Corrupt("next_prekey_id missing");
        return next is >= 1 and <= uint.MaxValue ? (uint)next : throw new InvalidOperationException("Prekey ids are exhausted.");
    });

    /// <summary>
    /// Stores new prekeys in one transaction: a signed prekey and a last-resort KEM prekey (each
    /// becomes the current one), and one-time X25519 and KEM prekeys. Ids must be new (take them
    /// from <see cref="NextPreKeyId"/>).
    /// </summary>
    public void AddPreKeys(SignedPreKeyRecord? signedPreKey, KemPreKeyRecord? lastResortKemPreKey, IEnumerable<OneTimePreKeyRecord> oneTimePreKeys, IEnumerable<KemPreKeyRecord> oneTimeKemPreKeys)
    {
        ArgumentNullException.ThrowIfNull(oneTimePreKeys);
        ArgumentNullException.ThrowIfNull(oneTimeKemPreKeys);
        if (lastResortKemPreKey is { LastResort: false })
        {
            throw new ArgumentException("Not a last-resort KEM prekey.", nameof(lastResortKemPreKey));
        }

        var oneTime = oneTimePreKeys.ToList();
        if (oneTime.Contains(null!))
        {
            throw new ArgumentException("A one-time prekey is null.", nameof(oneTimePreKeys));
        }

        var oneTimeKem = oneTimeKemPreKeys.ToList();
        if (oneTimeKem.Exists(record => record is null || record.LastResort))
        {
            throw new ArgumentException("A one-time KEM prekey is null or last-resort.", nameof(oneTimeKemPreKeys));
        }

        Write(() =>
        {
            if (signedPreKey is not null)
            {
                InsertPreKey(SignedKind, signedPreKey.Id, lastResort: false, signedPreKey.Serialize(), signedPreKey.Created);
                PutMeta(connection, transaction, "current_signed_prekey_id", (long)signedPreKey.Id);
            }

            if (lastResortKemPreKey is not null)
            {
                InsertPreKey(KemKind, lastResortKemPreKey.Id, lastResort: true, lastResortKemPreKey.Serialize(), lastResortKemPreKey.Created);
                PutMeta(connection, transaction, "current_last_resort_kem_prekey_id", (long)lastResortKemPreKey.Id);
            }

            foreach (var record in oneTime)
            {
                InsertPreKey(OneTimeKind, record.Id, lastResort: false, record.Serialize(), Now());
            }

            foreach (var record in oneTimeKem)
            {
                InsertPreKey(KemKind, record.Id, lastResort: false, record.Serialize(), record.Created);
            }
        });
    }

    /// <inheritdoc/>
    public SignedPreKeyRecord? GetSignedPreKey(uint id) => Read(() => LoadPreKey(SignedKind, id, SignedPreKeyRecord.Deserialize));

    /// <inheritdoc/>
    public OneTimePreKeyRecord? GetOneTimePreKey(uint id) => Read(() => LoadPreKey(OneTimeKind, id, OneTimePreKeyRecord.Deserialize));

    /// <inheritdoc/>
    public KemPreKeyRecord? GetKemPreKey(uint id) => Read(() => LoadPreKey(KemKind, id, KemPreKeyRecord.Deserialize));

    /// <summary>Deletes the one-time prekey and the KEM prekey unless it is a last-resort one, in one transaction.</summary>
    public void ConsumePreKeys(uint? oneTimePreKeyId, uint kemPreKeyId) => Write(() =>
    {
        if (oneTimePreKeyId is { } oneTimeId)
        {
            Execute("DELETE FROM prekeys WHERE kind = $kind AND id = $id", ("$kind", OneTimeKind), ("$id", (long)oneTimeId));
        }

        Execute("DELETE FROM prekeys WHERE kind = $kind AND id = $id AND last_resort = 0", ("$kind", KemKind), ("$id", (long)kemPreKeyId));
    });

    private static SealedField PreKeyField(string kind, uint id) => new("prekeys", "record", string.Create(CultureInfo.InvariantCulture, $"{kind}/{id}"));

    private delegate T PreKeyParser<T>(ReadOnlySpan<byte> bytes);

    private uint? MetaId(string name) => GetMeta(connection, name) switch
    {
        null => null,
        long id and >= 0 and <= uint.MaxValue => (uint)id,
        _ => throw ProfileError.Corrupt($"meta {name} malformed"),
    };

    private void InsertPreKey(string kind, uint id, bool lastResort, byte[] serialized, DateTimeOffset created)
    {
        try
        {
            Execute(
                "INSERT INTO prekeys (kind, id, last_resort, record, created_at) VALUES ($kind, $id, $last_resort, $record, $created)",
                ("$kind", kind),
                ("$id", (long)id),
                ("$last_resort", lastResort ? 1L : 0L),
                ("$record", key.Seal(PreKeyField(kind, id), serialized)),
                ("$created", ToStored(created)));
        }
        catch (SqliteException e) when (IsConstraintViolation(e))
        {
            throw new ArgumentException($"A {kind} prekey with id {id} is already stored.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(serialized);
        }
    }

    private T? LoadPreKey<T>(string kind, uint id, PreKeyParser<T> parse)
        where T : class
    {
        if (Scalar("SELECT record FROM prekeys WHERE kind = $kind AND id = $id", ("$kind", kind), ("$id", (long)id)) is not byte[] sealedRecord)
        {
            return null;
        }

        var field = PreKeyField(kind, id);
        var serialized = key.Open(field, sealedRecord);
        try
        {
            return parse(serialized);
        }
        catch (ParleyProtocolException e)
        {
            throw ProfileError.Corrupt($"{field} unreadable", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(serialized);
        }
    }
}
