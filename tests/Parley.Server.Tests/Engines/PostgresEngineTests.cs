using Npgsql;
using Parley.Server.Storage;
using Parley.Server.Storage.Postgres;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Engines;

/// <summary>What only the PostgreSQL engine promises: several nodes, durable commits, versioned migrations.</summary>
[Collection(SharedStorage.Name)]
public sealed class PostgresEngineTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public void Settings_PrepareTheStatementsOfEveryMessageUnlessTheOperatorSaysOtherwise()
    {
        var defaults = PostgresServerStore.Settings("Host=db;Username=parley;Database=parley");
        Assert.Equal(PostgresServerStore.AutoPreparedStatements, defaults.MaxAutoPrepare);
        Assert.Equal("parley", defaults.ApplicationName);

        // Behind a pooler that cannot keep prepared statements, the operator turns it off.
        Assert.Equal(0, PostgresServerStore.Settings("Host=db;Max Auto Prepare=0").MaxAutoPrepare);
        var chosen = PostgresServerStore.Settings("Host=db;MaxAutoPrepare=5;Application Name=relay-a");
        Assert.Equal(5, chosen.MaxAutoPrepare);
        Assert.Equal("relay-a", chosen.ApplicationName);
    }

    [Fact]
    public void Settings_SkipTheResetOfPooledConnectionsUnlessTheOperatorAsksForIt()
    {
        Assert.True(PostgresServerStore.Settings("Host=db;Username=parley;Database=parley").NoResetOnClose);
        Assert.False(PostgresServerStore.Settings("Host=db;No Reset On Close=false").NoResetOnClose);
        Assert.False(PostgresServerStore.Settings("Host=db;NoResetOnClose=false").NoResetOnClose);
    }

    [Fact]
    public async Task Migrate_FromSeveralNodesAtOnce_Succeeds()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Postgres);

        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(database.OpenAsync)));
        try
        {
            await AddUsersAsync(stores[0], "alice");
            Assert.NotNull(await stores[3].Users.GetUserAsync("alice", None));
            Assert.Equal(3L, await ScalarAsync(database.Location, "SELECT count(*) FROM schema_versions"));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Migrate_JournalsEachScriptOnce()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Postgres);
        await using (var store = await database.OpenAsync())
        {
            await store.MigrateAsync(None);
        }

        await using (await database.OpenAsync())
        {
        }

        Assert.Equal(3L, await ScalarAsync(database.Location, "SELECT count(*) FROM schema_versions"));
        Assert.Equal(
            "Parley.Server.Storage.Postgres.Migrations.0001_initial.sql,Parley.Server.Storage.Postgres.Migrations.0002_revoked_certificates.sql,Parley.Server.Storage.Postgres.Migrations.0003_mailbox_depths.sql",
            await ScalarAsync(database.Location, "SELECT string_agg(scriptname, ',' ORDER BY scriptname) FROM schema_versions"));
    }

    [Fact]
    public async Task Migrate0002_BackfillsTheCertificatesRevokedUnderSchemaV1()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Postgres);
        var alice = User("alice");
        var revokedAt = Now();
        await using (var store = await database.OpenAsync())
        {
            Assert.True(await store.Users.TryCreateUserAsync(alice, None));
            await AddUsersAsync(store, "bob");
        }

        // Back to schema v1, with alice revoked the v1 way (only users.revoked_at).
        await using (var connection = new NpgsqlConnection(database.Location))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """
                DROP TABLE revoked_certificates;
                DELETE FROM schema_versions WHERE scriptname LIKE '%0002_revoked_certificates.sql';
                UPDATE users SET revoked_at = @revoked_at WHERE name = 'alice';
                """,
                connection);
            command.Parameters.AddWithValue("revoked_at", revokedAt);
            await command.ExecuteNonQueryAsync();
        }

        await using (var store = await database.OpenAsync())
        {
            Assert.Equal([(alice.CertificateSerial, revokedAt)], await store.Users.ListRevokedCertificatesAsync(None));
            Assert.True(await store.Users.IsIdentityRevokedAsync(alice.SigningKey, None));
        }
    }

    [Fact]
    public async Task Migrate0003_CountsTheEnvelopesQueuedUnderSchemaV2()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Postgres);
        await using (var store = await database.OpenAsync())
        {
            await AddUsersAsync(store, "alice", "bob", "carol");
        }

        // Back to schema v2, with envelopes stored the v2 way (no counts kept).
        await using (var connection = new NpgsqlConnection(database.Location))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """
                DROP TRIGGER envelopes_count ON envelopes;
                DROP FUNCTION mailbox_depths_follow();
                DROP TABLE mailbox_depths;
                DELETE FROM schema_versions WHERE scriptname LIKE '%0003_mailbox_depths.sql';
                INSERT INTO envelopes (message_id, sender, recipient, body, server_ts)
                VALUES ('\x01', 'alice', 'bob', '\xaa', 1), ('\x02', 'alice', 'bob', '\xaa', 2), ('\x03', 'bob', 'carol', '\xaa', 3);
                """,
                connection);
            await command.ExecuteNonQueryAsync();
        }

        await using (var store = await database.OpenAsync())
        {
            Assert.Equal(new MailboxRecipient(false, 2), await store.Users.GetRecipientAsync("bob", None));
            Assert.Equal(new MailboxRecipient(false, 1), await store.Users.GetRecipientAsync("carol", None));
            Assert.Equal(new MailboxRecipient(false, 0), await store.Users.GetRecipientAsync("alice", None));
            Assert.Equal(3L, await store.Mailbox.CountAllQueuedAsync(None));
            Assert.Equal(1, await store.Mailbox.AcknowledgeAsync("bob", [[0x01]], None));
            Assert.Equal(1, await store.Mailbox.CountQueuedAsync("bob", None));
        }
    }

    [Fact]
    public async Task Migrate_WithSynchronousCommitOff_Refuses()
    {
        var database = await storage.CreateDatabaseAsync(Engine.Postgres);
        var name = new NpgsqlConnectionStringBuilder(database.Location).Database;
        await (await storage.PostgresAsync()).ExecuteAdminAsync($"ALTER DATABASE \"{name}\" SET synchronous_commit = off");
        await using var store = new PostgresServerStore(database.Location);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.MigrateAsync(None));

        Assert.Contains("synchronous_commit", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>Health on a private cluster that the test stops (never the shared server).</summary>
public sealed class PostgresHealthTests
{
    [Fact]
    public async Task IsHealthy_AfterTheServerStops_IsFalse()
    {
        await using var cluster = await PostgresCluster.StartPrivateAsync();
        await using var store = new PostgresServerStore(await cluster.CreateDatabaseAsync());
        await store.MigrateAsync(CancellationToken.None);
        Assert.True(await store.IsHealthyAsync(CancellationToken.None));

        await cluster.StopAsync();

        var started = TimeProvider.System.GetTimestamp();
        Assert.False(await store.IsHealthyAsync(CancellationToken.None));
        Assert.False(await store.IsHealthyAsync(CancellationToken.None));
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(15));
    }
}
