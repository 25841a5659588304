using Microsoft.Data.Sqlite;
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

        Assert.Equal(1L, await ScalarAsync(database.Location, "SELECT count(*) FROM schema_versions"));
        Assert.Equal(
            "Parley.Server.Storage.Sqlite.Migrations.0001_initial.sql",
            await ScalarAsync(database.Location, "SELECT ScriptName FROM schema_versions"));
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
