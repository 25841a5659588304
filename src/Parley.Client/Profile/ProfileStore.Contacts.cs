using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Protocol.Identity;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Client.Profile;

/// <summary>Contacts and trust on first use: the <see cref="IIdentityKeyStore"/> half of the profile.</summary>
public sealed partial class ProfileStore : IIdentityKeyStore
{
    private const byte VerifiedFlag = 1;

    /// <inheritdoc/>
    public IdentityKeyPair LocalIdentity => Identity;

    /// <summary>
    /// <see cref="IdentityTrust.FirstUse"/> when no key is pinned for <paramref name="peer"/>;
    /// <see cref="IdentityTrust.Changed"/> when <paramref name="identity"/> is not the pinned key, or
    /// whenever a key change was recorded and not yet accepted; otherwise <see cref="IdentityTrust.Trusted"/>.
    /// </summary>
    public IdentityTrust GetTrust(string peer, IdentityKey identity)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ArgumentNullException.ThrowIfNull(identity);
        return Read(() => ReadContact(peer) switch
        {
            null or { Pinned: null } => IdentityTrust.FirstUse,
            { KeyChanged: true } => IdentityTrust.Changed,
            { Pinned: var pinned } when pinned.Equals(identity) => IdentityTrust.Trusted,
            _ => IdentityTrust.Changed,
        });
    }

    /// <summary>
    /// Pins <paramref name="identity"/> for <paramref name="peer"/> (adding the contact if needed)
    /// and clears a recorded key change. The verified flag survives only if the key is the same.
    /// </summary>
    public void Pin(string peer, IdentityKey identity)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ArgumentNullException.ThrowIfNull(identity);
        Write(() => PinCore(peer, identity, keepVerified: true));
    }

    /// <summary>Adds a contact with no key yet; false if it already exists.</summary>
    public bool AddContact(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Write(() => Execute(
            "INSERT INTO contacts (name, key_changed, added_at) VALUES ($name, 0, $now) ON CONFLICT (name) DO NOTHING",
            ("$name", name),
            ("$now", ToStored(Now()))) == 1);
    }

    /// <summary>Removes a contact and its pinned key (sessions and history stay); false if there was none.</summary>
    public bool RemoveContact(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Write(() => Execute("DELETE FROM contacts WHERE name = $name", ("$name", name)) == 1);
    }

    /// <summary>The contacts, by name.</summary>
    public IReadOnlyList<Contact> ListContacts() => Read(() =>
    {
        var contacts = new List<Contact>();
        using var command = Command("SELECT name, identity, pinned_at, key_changed, offered_identity FROM contacts ORDER BY name");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var row = ReadContactRow(reader);
            contacts.Add(new Contact(row.Name, row.Pinned?.Fingerprint, row.Verified, row.KeyChanged, row.PinnedAt));
        }

        return contacts;
    });

    /// <summary>The key pinned for <paramref name="name"/>, or null (for safety numbers and <c>parley verify</c>).</summary>
    public IdentityKey? GetPinnedIdentity(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Read(() => ReadContact(name)?.Pinned);
    }

    /// <summary>The different key <paramref name="name"/> offered (see <see cref="RecordKeyChange"/>), or null.</summary>
    public IdentityKey? GetOfferedIdentity(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Read(() => ReadContact(name)?.Offered);
    }

    /// <summary>
    /// Marks the contact verified, only if its pinned key is <paramref name="expected"/> (the key
    /// whose safety number the user compared) and no key change is pending; returns whether it did.
    /// </summary>
    public bool MarkVerified(string name, IdentityKey expected)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(expected);
        return Write(() =>
        {
            if (ReadContact(name) is not { Pinned: { } pinned, KeyChanged: false } || !pinned.Equals(expected))
            {
                return false;
            }

            Execute(
                "UPDATE contacts SET identity = $identity WHERE name = $name",
                ("$name", name),
                ("$identity", SealPinned(name, pinned, verified: true)));
            return true;
        });
    }

    /// <summary>
    /// Records that <paramref name="name"/> offered <paramref name="offered"/>, which differs from
    /// the pinned key: the contact is flagged and <see cref="GetTrust"/> returns
    /// <see cref="IdentityTrust.Changed"/> for it until <see cref="AcceptChangedKey"/>. The offered key is
    /// kept beside the pinned one so both fingerprints can be shown. Does nothing if it is the pinned key.
    /// </summary>
    public void RecordKeyChange(string name, IdentityKey offered)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(offered);
        Write(() =>
        {
            var pinned = ReadContact(name)?.Pinned ?? throw new InvalidOperationException($"No key is pinned for {name}.");
            if (pinned.Equals(offered))
            {
                return;
            }

            Execute(
                "UPDATE contacts SET key_changed = 1, offered_identity = $offered WHERE name = $name",
                ("$name", name),
                ("$offered", key.Seal(OfferedField(name), offered.ToWire().ToByteArray())));
        });
    }

    /// <summary>The user accepted <paramref name="newKey"/>: pins it, clears the key change and the verified flag.</summary>
    public void AcceptChangedKey(string name, IdentityKey newKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(newKey);
        Write(() => PinCore(name, newKey, keepVerified: false));
    }

    private static SealedField PinnedField(string name) => new("contacts", "identity", name);

    private static SealedField OfferedField(string name) => new("contacts", "offered_identity", name);

    private void PinCore(string name, IdentityKey identity, bool keepVerified)
    {
        var existing = ReadContact(name);
        var sameKey = existing?.Pinned is { } pinned && pinned.Equals(identity);
        var verified = keepVerified && sameKey && existing!.Verified;
        var pinnedAt = sameKey && existing!.PinnedAt is { } at ? at : Now();
        Execute(
            """
            INSERT INTO contacts (name, identity, pinned_at, key_changed, offered_identity, added_at)
            VALUES ($name, $identity, $pinned_at, 0, NULL, $now)
            ON CONFLICT (name) DO UPDATE SET
                identity = excluded.identity, pinned_at = excluded.pinned_at, key_changed = 0, offered_identity = NULL
            """,
            ("$name", name),
            ("$identity", SealPinned(name, identity, verified)),
            ("$pinned_at", ToStored(pinnedAt)),
            ("$now", ToStored(Now())));
    }

    /// <summary>Sealed: verified flag (1 byte) || PublicIdentity wire bytes, so neither can be altered in the file.</summary>
    private byte[] SealPinned(string name, IdentityKey identity, bool verified)
    {
        var wire = identity.ToWire().ToByteArray();
        var plaintext = new byte[1 + wire.Length];
        plaintext[0] = verified ? VerifiedFlag : (byte)0;
        wire.CopyTo(plaintext, 1);
        return key.Seal(PinnedField(name), plaintext);
    }

    private ContactRow? ReadContact(string name)
    {
        using var command = Command("SELECT name, identity, pinned_at, key_changed, offered_identity FROM contacts WHERE name = $name", ("$name", name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadContactRow(reader) : null;
    }

    private ContactRow ReadContactRow(SqliteDataReader reader)
    {
        var name = reader.GetString(0);
        IdentityKey? pinned = null;
        var verified = false;
        if (!reader.IsDBNull(1))
        {
            var field = PinnedField(name);
            var plaintext = key.Open(field, reader.GetFieldValue<byte[]>(1));
            if (plaintext.Length < 1 || plaintext[0] > VerifiedFlag)
            {
                throw ProfileError.Corrupt_SealedValue(field);
            }

            verified = plaintext[0] == VerifiedFlag;
            pinned = ParseIdentity(field, plaintext.AsSpan(1));
        }

        IdentityKey? offered = null;
        if (!reader.IsDBNull(4))
        {
            var field = OfferedField(name);
            offered = ParseIdentity(field, key.Open(field, reader.GetFieldValue<byte[]>(4)));
        }

        DateTimeOffset? pinnedAt = reader.IsDBNull(2) ? null : FromStored(reader.GetInt64(2));
        return new ContactRow(name, pinned, verified, reader.GetInt64(3) != 0, pinnedAt, offered);
    }

    private static IdentityKey ParseIdentity(SealedField field, ReadOnlySpan<byte> wire)
    {
        try
        {
            return IdentityKey.FromWire(PublicIdentity.Parser.ParseFrom(wire));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or ParleyProtocolException)
        {
            throw ProfileError.Corrupt($"{field} unreadable", e);
        }
    }

    private sealed record ContactRow(string Name, IdentityKey? Pinned, bool Verified, bool KeyChanged, DateTimeOffset? PinnedAt, IdentityKey? Offered);
}
