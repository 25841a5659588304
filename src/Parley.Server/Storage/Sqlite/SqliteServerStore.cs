using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// The embedded engine: one SQLite file in WAL mode with synchronous=FULL (see <see cref="SqliteDatabase"/>).
/// </summary>
internal sealed class SqliteServerStore : IServerStore
{
    private const string MigrationsPrefix = "Parley.Server.Storage.Sqlite.Migrations.";

    private readonly SqliteDatabase database;
    private readonly ILogger logger;

    /// <param name="path">The database file; created with its schema by <see cref="MigrateAsync"/> if absent.</param>
    /// <param name="logger">Where DbUp reports the migrations it applies.</param>
    public SqliteServerStore(string path, ILogger? logger = null)
    {
        database = new SqliteDatabase(path);
        this.logger = logger ?? NullLogger.Instance;
        Users = new SqliteUserStore(database);
        PreKeys = new SqlitePreKeyDirectoryStore(database);
        Mailbox = new SqliteMailboxStore(database);
    }

    public IUserStore Users { get; }

    public IPreKeyDirectoryStore PreKeys { get; }

    public IMailboxStore Mailbox { get; }

    /// <summary>
    /// Switches the file to WAL (persistent, so once is enough; it cannot be done inside a
    /// transaction, hence here and not in a migration), then applies the embedded scripts under
    /// Sqlite/Migrations that DbUp's journal (table schema_versions) has not seen, each in its own
    /// transaction. DbUp has no async API; this runs once at start.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL";
            var mode = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"SQLite could not switch {connection.DataSource} to WAL mode (it reports \"{mode}\"); the file system may not support it.");
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var upgrade = DeployChanges.To
            .SqliteDatabase(database.ConnectionString)
            .JournalToSqliteTable("schema_versions")
            .WithScriptsEmbeddedInAssembly(typeof(SqliteServerStore).Assembly, name => name.StartsWith(MigrationsPrefix, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogTo(logger)
            .Build()
            .PerformUpgrade();
        if (!upgrade.Successful)
        {
            throw new InvalidOperationException(
                $"SQLite schema migration {upgrade.ErrorScript?.Name ?? "(unknown script)"} failed: {upgrade.Error?.Message}", upgrade.Error);
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Reading the schema touches the file, not only the library.
            return await database.ReadAsync(async (connection, ct) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT count(*) FROM sqlite_schema";
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        database.Dispose();
        return ValueTask.CompletedTask;
    }
}
