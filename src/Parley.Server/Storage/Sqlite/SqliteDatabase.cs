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
/// concurrent sends, each still answered only after its own commit. A batch holding only writes
/// whose loss is harmless (<see cref="WriteWithoutSyncAsync{T}"/>) commits without the fsync.
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

    /// <summary>Open read connections kept for reuse (with their prepared statements); more are opened when all are busy.</summary>
    private const int KeptReaders = 8;

    private readonly SqliteGroupCommit groupCommit;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteConnection> readers = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, SqliteStatements> statements = [];
    private int disposed;

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
        groupCommit = new SqliteGroupCommit(this);
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
    internal SqliteConnection Open()
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
        if (!readers.TryTake(out var connection))
        {
            connection = new SqliteConnection(ConnectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        var healthy = false;
        try
        {
            var result = await read(connection, cancellationToken).ConfigureAwait(false);
            healthy = true;
            return result;
        }
        finally
        {
            // A connection that failed a read is not trusted again; one too many is closed.
            if (healthy && readers.Count < KeptReaders && Volatile.Read(ref disposed) == 0)
            {
                readers.Add(connection);
            }
            else
            {
                Forget(connection);
            }
        }
    }

    /// <summary>
    /// <paramref name="connection"/>'s command for <paramref name="sql"/>, prepared once and kept
    /// with the connection, with exactly the parameters <paramref name="parameterNames"/> (none when
    /// not given; a caller then adds its own). A statement run for every message names them: they
    /// are kept with it and the caller sets each one's value (by position) before every run, so
    /// that a run allocates no parameter objects. The writer's batch is a transaction of SQLite's
    /// own (BEGIN IMMEDIATE run as such a command), which every command on the connection is in
    /// until COMMIT. Preparing a statement costs more than running these short ones, and
    /// Microsoft.Data.Sqlite prepares again for every new command. Do not dispose it; use it only on
    /// the connection's own thread of work, and only for fixed SQL text.
    /// </summary>
    internal SqliteCommand Command(SqliteConnection connection, string sql, params ReadOnlySpan<string> parameterNames) =>
        statements.GetValue(connection, _ => new SqliteStatements()).Get(connection, sql, parameterNames);

    /// <summary>Disposes <paramref name="connection"/> and the commands kept for it.</summary>
    internal void Forget(SqliteConnection connection)
    {
        if (statements.TryGetValue(connection, out var kept))
        {
            statements.Remove(connection);
            kept.Dispose();
        }

        connection.Dispose();
    }

    /// <summary>
    /// Runs <paramref name="write"/> in a BEGIN IMMEDIATE transaction, possibly shared with other
    /// writes queued at the same time, and returns once that transaction is committed
    /// (synchronous=FULL: durable on return); an exception fails this write alone and leaves none
    /// of its changes. Commands created on the connection inside <paramref name="write"/> join the
    /// transaction; <paramref name="write"/> must not keep the connection or start transactions.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> write, CancellationToken cancellationToken) =>
        groupCommit.WriteAsync(write, durable: true, cancellationToken);

    /// <summary>
    /// As <see cref="WriteAsync{T}"/>, but the commit need not be fsynced before it returns: for a
    /// write whose loss in a crash is harmless, such as an acknowledgement (the envelope is pushed
    /// again and the client drops the repeat). It still commits in order with the other writes.
    /// </summary>
    public Task<T> WriteWithoutSyncAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> write, CancellationToken cancellationToken) =>
        groupCommit.WriteAsync(write, durable: false, cancellationToken);

    /// <summary>Closes the pooled connections, so the file is released.</summary>
    public void Dispose()
    {
        Volatile.Write(ref disposed, 1);
        groupCommit.Dispose();
        while (readers.TryTake(out var reader))
        {
            Forget(reader);
        }

        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

    }
}
