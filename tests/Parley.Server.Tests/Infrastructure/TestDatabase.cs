using Parley.Server.Storage;
using Parley.Server.Storage.Postgres;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// One empty database of one engine (a SQLite file, or a PostgreSQL database), which a test may
/// open several times: to reopen after closing, or to act as two server nodes at once.
/// </summary>
public sealed class TestDatabase(Engine engine, string location)
{
    public Engine Engine { get; } = engine;

    /// <summary>The SQLite file path or the PostgreSQL connection string.</summary>
    public string Location { get; } = location;

    /// <summary>A new store on this database, migrated.</summary>
    internal async Task<IServerStore> OpenAsync()
    {
        IServerStore store = Engine switch
        {
            Engine.Sqlite => new SqliteServerStore(Location),
            Engine.Postgres => new PostgresServerStore(Location),
            _ => throw new ArgumentOutOfRangeException(nameof(Engine)),
        };
        try
        {
            await store.MigrateAsync(CancellationToken.None);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }
}
