using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// One SQLite database file: how its connections are opened and how writes are serialized.
/// </summary>
/// <remarks>
/// Every connection runs with synchronous=FULL (a commit is fsynced before it returns, so an
/// acknowledged write survives a power loss, not only a crash), foreign keys on and a busy timeout.
/// The file itself is in WAL mode (set once by <see cref="SqliteServerStore.MigrateAsync"/>; the
/// mode is persistent), so readers never block the writer and need no lock here.
/// Writes run in BEGIN IMMEDIATE transactions: the write lock is taken before the first read, so
/// a read-then-write (taking a one-time prekey) cannot interleave with another writer, even one in
/// another process. Within this process every write goes through one writer thread that commits
/// the writes queued meanwhile together (<see cref="SqliteGroupCommit"/>): one fsync for many
/// concurrent sends, each still answered only after its own commit.
/// Microsoft.Data.Sqlite completes its async methods synchronously; the calls are short.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private const int BusyTimeoutMilliseconds = 10_000;

    private static readonly string Settings = $"""
        PRAGMA foreign_keys = ON;
        PRAGMA synchronous = FULL;
        PRAGMA busy_timeout = {BusyTimeoutMilliseconds};
        """;

    private readonly SqliteGroupCommit groupCommit;

    public SqliteDatabase(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString();
        groupCommit = new SqliteGroupCommit(Open);
    }

    public string ConnectionString { get; }

    /// <summary>Opens a pooled connection with this store's per-connection settings applied.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var settings = connection.CreateCommand();
            settings.CommandText = Settings;
            await settings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>As <see cref="OpenAsync"/>, for the writer thread.</summary>
    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            connection.Open();
            using var settings = connection.CreateCommand();
            settings.CommandText = Settings;
            settings.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> on its own pooled connection, outside any explicit transaction.
    /// Read connections skip the per-open PRAGMAs: synchronous matters only to the writer, foreign
    /// keys only to writes (and are on in the connection string), and a busy reader is retried by
    /// Microsoft.Data.Sqlite for the command timeout.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return await read(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> in a BEGIN IMMEDIATE transaction, possibly shared with other
    /// writes queued at the same time, and returns once that transaction is committed
    /// (synchronous=FULL: durable on return); an exception fails this write alone and leaves none
    /// of its changes. Commands created on the connection inside <paramref name="write"/> join the
    /// transaction; <paramref name="write"/> must not keep the connection or start transactions.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> write, CancellationToken cancellationToken) =>
        groupCommit.WriteAsync(write, cancellationToken);

    /// <summary>Closes the pooled connections, so the file is released.</summary>
    public void Dispose()
    {
        groupCommit.Dispose();
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

    }
}
