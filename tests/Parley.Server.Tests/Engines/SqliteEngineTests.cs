using Microsoft.Data.Sqlite;
using Parley.Server.Storage;
using Parley.Server.Storage.Sqlite;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Engines;

/// <summary>What only the SQLite engine promises: WAL, synchronous=FULL, versioned migrations.</summary>
[Collection(SharedStorage.Name)]
public sealed class SqliteEngineTests(StorageFixture storage)
{
    [Fact]
    public async Task Migrate_PutsTheFileInWalMode()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        await using (await database.OpenAsync())
        {
        }

        Assert.Equal("wal", await ScalarAsync(database.Location, "PRAGMA journal_mode"));
        Assert.True(File.Exists(database.Location));
    }

    [Fact]
    public async Task Connections_AreDurableAndChecked()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        using var sqlite = new SqliteDatabase(database.Location);
        await using var connection = await sqlite.OpenAsync(CancellationToken.None);

        Assert.Equal(2L, await ScalarAsync(connection, "PRAGMA synchronous")); // 2 = FULL
        Assert.Equal(1L, await ScalarAsync(connection, "PRAGMA foreign_keys"));
        Assert.True((long)(await ScalarAsync(connection, "PRAGMA busy_timeout"))! >= 1000);
    }

    [Fact]
    public async Task KeptStatement_KeepsItsNamedParametersBetweenRuns()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        using var sqlite = new SqliteDatabase(database.Location);
        await using var connection = await sqlite.OpenAsync(CancellationToken.None);
        const string Sql = "SELECT $a || $b";

        var first = sqlite.Command(connection, Sql, "$a", "$b");
        var kept = first.Parameters[1];
        first.Parameters[0].Value = "x";
        first.Parameters[1].Value = "y";
        Assert.Equal("xy", await first.ExecuteScalarAsync());

        // The same command and parameter objects; only the values change.
        var second = sqlite.Command(connection, Sql, "$a", "$b");
        Assert.Same(first, second);
        Assert.Same(kept, second.Parameters[1]);
        second.Parameters[0].Value = "p";
        second.Parameters[1].Value = "q";
        Assert.Equal("pq", await second.ExecuteScalarAsync());

        // Other names make new parameters; no names leave none.
        var renamed = sqlite.Command(connection, Sql, "$b", "$a");
        Assert.Equal(["$b", "$a"], renamed.Parameters.Cast<SqliteParameter>().Select(p => p.ParameterName));
        Assert.Null(renamed.Parameters[0].Value);
        Assert.Empty(sqlite.Command(connection, Sql).Parameters);
    }

    [Fact]
    public async Task Writes_AreFsyncedUnlessNoWriteInTheirBatchNeedsIt()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        using var sqlite = new SqliteDatabase(database.Location);

        // Read inside the write, that is inside its transaction: the setting its COMMIT will use.
        static Task<object?> Synchronous(SqliteConnection connection, CancellationToken ct) => ScalarAsync(connection, "PRAGMA synchronous");
        const long Full = 2, Normal = 1;

        Assert.Equal(Full, await sqlite.WriteAsync(Synchronous, CancellationToken.None));
        Assert.Equal(Normal, await sqlite.WriteWithoutSyncAsync(Synchronous, CancellationToken.None));
        Assert.Equal(Full, await sqlite.WriteAsync(Synchronous, CancellationToken.None));

        // Hold the writer so that the next two writes are committed in one batch: one durable
        // write makes the whole batch durable, the write queued without sync included.
        using var held = new ManualResetEventSlim();
        var holding = sqlite.WriteWithoutSyncAsync((_, _) => Task.FromResult(held.Wait(TimeSpan.FromSeconds(30), CancellationToken.None)), CancellationToken.None);
        var lazy = sqlite.WriteWithoutSyncAsync(Synchronous, CancellationToken.None);
        var durable = sqlite.WriteAsync(Synchronous, CancellationToken.None);
        held.Set();
        Assert.True(await holding);
        Assert.Equal(Full, await lazy);
        Assert.Equal(Full, await durable);
    }

    [Fact]
    public async Task Migrate_JournalsEachScriptOnce()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        await using (var store = await database.OpenAsync())
        {
            await store.MigrateAsync(CancellationToken.None);
        }

        await using (await database.OpenAsync())
        {
        }

        Assert.Equal(3L, await ScalarAsync(database.Location, "SELECT count(*) FROM schema_versions"));
        Assert.Equal(
            "Parley.Server.Storage.Sqlite.Migrations.0001_initial.sql,Parley.Server.Storage.Sqlite.Migrations.0002_revoked_certificates.sql,Parley.Server.Storage.Sqlite.Migrations.0003_mailbox_depths.sql",
            await ScalarAsync(database.Location, "SELECT group_concat(ScriptName, ',') FROM (SELECT ScriptName FROM schema_versions ORDER BY ScriptName)"));
    }

    [Fact]
    public async Task Migrate0002_BackfillsTheCertificatesRevokedUnderSchemaV1()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        var alice = TestData.User("alice");
        var revokedAt = TestData.Now();
        await using (var store = await database.OpenAsync())
        {
            Assert.True(await store.Users.TryCreateUserAsync(alice, CancellationToken.None));
            await TestData.AddUsersAsync(store, "bob");
        }

        // Back to schema v1, with alice revoked the v1 way (only users.revoked_at).
        await ExecuteAsync(database.Location, $"""
            DROP TABLE revoked_certificates;
            DELETE FROM schema_versions WHERE ScriptName LIKE '%0002_revoked_certificates.sql';
            UPDATE users SET revoked_at = {revokedAt.ToUnixTimeMilliseconds()} WHERE name = 'alice';
            """);

        await using (var store = await database.OpenAsync())
        {
            Assert.Equal([(alice.CertificateSerial, revokedAt)], await store.Users.ListRevokedCertificatesAsync(CancellationToken.None));
            Assert.True(await store.Users.IsIdentityRevokedAsync(alice.SigningKey, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Migrate0003_CountsTheEnvelopesQueuedUnderSchemaV2()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        await using (var store = await database.OpenAsync())
        {
            await TestData.AddUsersAsync(store, "alice", "bob", "carol");
        }

        // Back to schema v2, with envelopes stored the v2 way (no counts kept).
        await ExecuteAsync(database.Location, """
            DROP TRIGGER envelopes_count_insert;
            DROP TRIGGER envelopes_count_delete;
            DROP TABLE mailbox_depths;
            DELETE FROM schema_versions WHERE ScriptName LIKE '%0003_mailbox_depths.sql';
            INSERT INTO envelopes (message_id, sender, recipient, body, server_ts)
            VALUES (x'01', 'alice', 'bob', x'aa', 1), (x'02', 'alice', 'bob', x'aa', 2), (x'03', 'bob', 'carol', x'aa', 3);
            """);

        await using (var store = await database.OpenAsync())
        {
            Assert.Equal(new MailboxRecipient(false, 2), await store.Users.GetRecipientAsync("bob", CancellationToken.None));
            Assert.Equal(new MailboxRecipient(false, 1), await store.Users.GetRecipientAsync("carol", CancellationToken.None));
            Assert.Equal(new MailboxRecipient(false, 0), await store.Users.GetRecipientAsync("alice", CancellationToken.None));
            Assert.Equal(3L, await store.Mailbox.CountAllQueuedAsync(CancellationToken.None));
            Assert.Equal(1, await store.Mailbox.AcknowledgeAsync("bob", [[0x01]], CancellationToken.None));
            Assert.Equal(1, await store.Mailbox.CountQueuedAsync("bob", CancellationToken.None));
        }
    }

    [Fact]
    public async Task Acknowledge_FindsTheRowByItsIdNotByScanningTheMailbox()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Sqlite);
        await using (var store = await database.OpenAsync())
        {
            await TestData.AddUsersAsync(store, "alice", "bob");
        }

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database.Location, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + SqliteMailboxStore.AcknowledgeSql;
        explain.Parameters.AddWithValue("$message_id", TestData.Bytes());
        explain.Parameters.AddWithValue("$recipient", "bob");
        await using var plan = await explain.ExecuteReaderAsync();
        Assert.True(await plan.ReadAsync());
        var detail = plan.GetString(3);

        // Through the recipient's index, every ack would scan all that is queued for them.
        Assert.Contains("(message_id=?)", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("envelopes_recipient_sequence", detail, StringComparison.Ordinal);
    }

    private static async Task ExecuteAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        return await ScalarAsync(connection, sql);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
