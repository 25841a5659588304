using Microsoft.Data.Sqlite;

namespace Parley.Client.Profile;

/// <summary>
/// The tables of <c>profile.db</c> and their migrations, applied in order; <c>meta.schema_version</c>
/// counts those applied. A migration is only ever appended, never edited.
/// </summary>
/// <remarks>
/// What is in the clear and what is sealed (see <see cref="ProfileKey"/> and <see cref="SealedField"/>):
/// <list type="bullet">
/// <item><c>meta</c>: clear — schema_version, the Argon2id parameters and salt, next_prekey_id, the
/// current signed and last-resort KEM prekey ids. Sealed — check (a known value that tells a wrong
/// passphrase before anything is read or written), identity (the private identity), and the four
/// <see cref="ProfileInfo"/> fields (so the pinned CA cannot be swapped). Row key = the meta key.</item>
/// <item><c>contacts</c>: clear — name, pinned_at, key_changed, added_at. Sealed — identity (a
/// verified flag byte || the PublicIdentity wire bytes of the pinned key, so neither the pin nor the
/// verified flag can be altered), offered_identity (PublicIdentity of a changed key). Row key = name.</item>
/// <item><c>sessions</c>: clear — peer, updated_at. Sealed — state. Row key = peer.</item>
/// <item><c>prekeys</c>: clear — kind, id, last_resort, created_at. Sealed — record. Row key = "kind/id".</item>
/// <item><c>messages</c>: clear — peer, message_id, direction, status, times, sent/shown flags.
/// Sealed — body (the text) and ciphertext (the outbox copy, dropped once acked). Row key =
/// "in/peer/hex(id)" or "out/peer/hex(id)".</item>
/// <item><c>gaps</c> (migration 2): clear — peer, session (the session's base key), chain (the
/// peer's ratchet public key), the missing counters, how many are still missing, the message that
/// showed them missing, its time, shown. Nothing sealed: these are counters and public keys that
/// every message header carries past the server in the clear.</item>
/// </list>
/// </remarks>
internal static class ProfileSchema
{
    private static readonly string[] Migrations =
    [
        // 1: the first schema.
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value
        );
        CREATE TABLE contacts (
            name             TEXT PRIMARY KEY,
            identity         BLOB,
            pinned_at        INTEGER,
            key_changed      INTEGER NOT NULL DEFAULT 0,
            offered_identity BLOB,
            added_at         INTEGER NOT NULL
        );
        CREATE TABLE sessions (
            peer       TEXT PRIMARY KEY,
            state      BLOB NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE prekeys (
            kind        TEXT NOT NULL,
            id          INTEGER NOT NULL,
            last_resort INTEGER NOT NULL,
            record      BLOB NOT NULL,
            created_at  INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE TABLE messages (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            peer        TEXT NOT NULL,
            message_id  BLOB NOT NULL,
            outgoing    INTEGER NOT NULL,
            status      INTEGER NOT NULL,
            time        INTEGER NOT NULL,
            local_time  INTEGER NOT NULL,
            server_time INTEGER,
            sent        INTEGER NOT NULL,
            shown       INTEGER NOT NULL,
            body        BLOB,
            ciphertext  BLOB
        );
        CREATE UNIQUE INDEX messages_incoming_id ON messages (peer, message_id) WHERE outgoing = 0;
        CREATE UNIQUE INDEX messages_outgoing_id ON messages (message_id) WHERE outgoing = 1;
        CREATE INDEX messages_conversation ON messages (peer, time, seq);
        CREATE INDEX messages_unshown ON messages (time, seq) WHERE outgoing = 0 AND shown = 0;
        CREATE INDEX messages_pending ON messages (local_time, seq) WHERE outgoing = 1 AND sent = 0;
        """,

        // 2: messages the peer sent that never arrived (docs/protocol.md §6.5), one row per run of
        // skipped counters, shown just before the message that revealed them (message_seq).
        """
        CREATE TABLE gaps (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            peer          TEXT NOT NULL,
            session       BLOB NOT NULL,
            chain         BLOB NOT NULL,
            first_counter INTEGER NOT NULL,
            until_counter INTEGER NOT NULL,
            missing       INTEGER NOT NULL,
            message_seq   INTEGER NOT NULL,
            time          INTEGER NOT NULL,
            shown         INTEGER NOT NULL
        );
        CREATE INDEX gaps_chain ON gaps (peer, chain, first_counter);
        CREATE INDEX gaps_conversation ON gaps (peer, message_seq);
        CREATE INDEX gaps_unshown ON gaps (message_seq) WHERE shown = 0;
        """,
    ];

    /// <summary>The version a fully migrated profile has.</summary>
    public static long CurrentVersion => Migrations.Length;

    /// <summary>The applied version: 0 for an empty database.</summary>
    public static long ReadVersion(SqliteConnection connection)
    {
        using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
        if ((long)exists.ExecuteScalar()! == 0)
        {
            return 0;
        }

        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM meta WHERE key = 'schema_version'";
        return read.ExecuteScalar() is long version ? version : throw ProfileError.Corrupt("no schema version");
    }

    /// <summary>Applies the migrations after <paramref name="from"/>, each in its own transaction with its version bump.</summary>
    public static void Migrate(SqliteConnection connection, long from)
    {
        for (var version = from; version < Migrations.Length; version++)
        {
            using var transaction = connection.BeginTransaction();
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = Migrations[version];
            migrate.ExecuteNonQuery();
            using var bump = connection.CreateCommand();
            bump.Transaction = transaction;
            bump.CommandText = "INSERT INTO meta (key, value) VALUES ('schema_version', $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
            bump.Parameters.AddWithValue("$v", version + 1);
            bump.ExecuteNonQuery();
            transaction.Commit();
        }
    }
}
