using DbUp;
using DbUp.Postgresql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// The shared engine: PostgreSQL through one <see cref="NpgsqlDataSource"/> (a connection pool),
/// for several server nodes over one database. Statements run at READ COMMITTED; every write
/// commits before it returns and the server's synchronous_commit must be on (checked at start).
/// </summary>
internal sealed class PostgresServerStore : IServerStore
{
    private const string MigrationsPrefix = "Parley.Server.Storage.Postgres.Migrations.";

    // pg_advisory_lock key (one bigint) held while migrating, so nodes starting together migrate one at a time.
    private const long MigrationLockKey = 0x5061_726C_6579_0001; // "Parley" 1

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresMailboxStore mailbox;
    private readonly ILogger logger;

    /// <param name="connectionString">An Npgsql connection string ("Host=...;Username=...;Database=...").</param>
    /// <param name="logger">Where DbUp reports the migrations it applies.</param>
    public PostgresServerStore(string connectionString, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        dataSource = NpgsqlDataSource.Create(Settings(connectionString));
        this.logger = logger ?? NullLogger.Instance;
        Users = new PostgresUserStore(dataSource);
        PreKeys = new PostgresPreKeyDirectoryStore(dataSource);
        mailbox = new PostgresMailboxStore(dataSource);
        Mailbox = mailbox;
    }

    /// <summary>Statements Npgsql prepares per connection once used a few times (its "Max Auto Prepare"), unless the connection string says otherwise.</summary>
    internal const int AutoPreparedStatements = 32;

    public IUserStore Users { get; }

    public IPreKeyDirectoryStore PreKeys { get; }

    public IMailboxStore Mailbox { get; }

    /// <summary>
    /// Checks that commits are durable (synchronous_commit is not off), then, holding an advisory
    /// lock so that concurrently starting nodes take turns, applies the embedded scripts under
    /// Postgres/Migrations that DbUp's journal (table schema_versions, in the first schema of the
    /// search path) has not seen, each in its own transaction. DbUp has no async API; this runs
    /// once at start.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using (var check = new NpgsqlCommand("SHOW synchronous_commit", connection))
            {
                var synchronousCommit = (string?)await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (string.Equals(synchronousCommit, "off", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        "PostgreSQL has synchronous_commit = off, so a committed message could be lost in a crash after Parley acknowledged it; set synchronous_commit = on for Parley's database or role.");
                }
            }

            await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection))
            {
                take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = MigrationLockKey });
                await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var upgrade = DeployChanges.To
                    .PostgresqlDatabase(new PostgresqlConnectionManager(dataSource))
                    .JournalToPostgresqlTable(null, "schema_versions")
                    .WithScriptsEmbeddedInAssembly(typeof(PostgresServerStore).Assembly, name => name.StartsWith(MigrationsPrefix, StringComparison.Ordinal))
                    .WithTransactionPerScript()
                    .LogTo(logger)
                    .Build()
                    .PerformUpgrade();
                if (!upgrade.Successful)
                {
                    throw new InvalidOperationException(
                        $"PostgreSQL schema migration {upgrade.ErrorScript?.Name ?? "(unknown script)"} failed: {upgrade.Error?.Message}", upgrade.Error);
                }
            }
            finally
            {
                await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                release.Parameters.Add(new NpgsqlParameter<long> { TypedValue = MigrationLockKey });
                await release.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        // A stopped or unreachable server must read as unhealthy promptly, not hang the probe.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            return await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false) is 1;
        }
        catch (NpgsqlException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await mailbox.DisposeAsync().ConfigureAwait(false);
        await dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The operator's connection string, with Parley's defaults where it says nothing.</summary>
    internal static NpgsqlConnectionStringBuilder Settings(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(settings.ApplicationName))
        {
            settings.ApplicationName = "parley";
        }

        // Every message runs the same few statements; prepared once per connection, the server
        // stops parsing and planning them each time. An operator behind a pooler that cannot keep
        // prepared statements sets "Max Auto Prepare=0", and that stays.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!Says(given, "Max Auto Prepare"))
        {
            settings.MaxAutoPrepare = AutoPreparedStatements;
        }

        // A connection going back to Npgsql's pool is otherwise reset (unlisten, unlock, discard)
        // by statements sent ahead of its next use, parsed by the server every time: 8-19 % of the
        // server's CPU per message in the relay benchmark. Parley leaves no session state behind:
        // its settings are SET LOCAL and its mailbox locks transaction-scoped, and the migration's
        // session lock is released before its connection goes back. An unfinished transaction is
        // still rolled back either way.
        if (!Says(given, "No Reset On Close"))
        {
            settings.NoResetOnClose = true;
        }

        return settings;
    }

    /// <summary>Whether the connection string sets <paramref name="keyword"/>, which Npgsql takes with or without its spaces.</summary>
    private static bool Says(System.Data.Common.DbConnectionStringBuilder given, string keyword) =>
        given.ContainsKey(keyword) || given.ContainsKey(keyword.Replace(" ", string.Empty, StringComparison.Ordinal));
}
