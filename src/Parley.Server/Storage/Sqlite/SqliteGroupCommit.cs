using Microsoft.Data.Sqlite;
using Parley.Server.Hosting;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Group commit: one writer thread takes every write queued while the previous commit was being
/// fsynced and runs them in one BEGIN IMMEDIATE transaction, so N concurrent sends cost one fsync
/// instead of N. Each caller's task completes only after the COMMIT that holds its write has
/// returned (synchronous=FULL: durable), so "acknowledge after commit" holds per write.
/// </summary>
/// <remarks>
/// A write that throws must not take the others down with it: the batch is rolled back and its
/// writes are replayed one transaction each, so only the failing one fails. The writes are
/// functions of the database state alone (no effect outside it), so replaying one after a
/// rollback is the same as running it once. Writes complete synchronously (Microsoft.Data.Sqlite
/// has no real async I/O), hence a dedicated thread rather than a thread-pool loop that would
/// block a pool thread for every fsync.
/// A write queued as not durable (an acknowledgement: losing it in a crash only means the envelope
/// is pushed again and the client drops the repeat) lets a batch made only of such writes commit
/// with synchronous=NORMAL, without an fsync. In WAL mode the next FULL commit fsyncs the log and
/// with it every commit before it, so nothing durable ever depends on one that is not. Without
/// this, a send queued behind a batch of acks waited for their fsync before its own.
/// </remarks>
internal sealed class SqliteGroupCommit : IDisposable
{
    /// <summary>Most writes in one transaction; bounds the time a late joiner waits behind a batch.</summary>
    internal const int MaxBatch = 512;

    private readonly SqliteDatabase database;
    private readonly Lock gate = new();
    private readonly Queue<PendingWrite> queue = new();

    // The idle writer blocks on this without spinning first. Task.Wait and SemaphoreSlim spin,
    // yielding the core dozens of times before they sleep: at a few hundred messages a second
    // that was 6 of the server's 33 thread switches per message, for a thread that had nothing
    // to do. An enqueue wakes the writer directly, not through a thread-pool work item.
    private readonly ManualResetEventSlim queued = new(initialState: false, spinCount: 0);
    private readonly Thread writer;
    private bool closed;
    private SqliteConnection? connection;

    /// <summary>The writer connection's synchronous setting: FULL as opened, NORMAL after a batch of writes that are not durable.</summary>
    private bool synchronousFull = true;

    internal SqliteGroupCommit(SqliteDatabase database)
    {
        this.database = database;
        writer = new Thread(Run) { IsBackground = true, Name = "parley-sqlite-writer" };
        writer.Start();
    }

    /// <summary>
    /// Queues <paramref name="write"/>; the task completes once its transaction is committed,
    /// durably unless <paramref name="durable"/> is false and no write in the batch needs it.
    /// </summary>
    internal Task<T> WriteAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> write, bool durable, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(write, durable, cancellationToken);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            queue.Enqueue(pending);

            // Under the gate, so that Dispose cannot close and dispose the event in between.
            queued.Set();
        }

        return pending.Task;
    }

    /// <summary>Commits what is queued, then stops the writer; later writes throw ObjectDisposedException.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (closed)
            {
                return;
            }

            closed = true;
            queued.Set();
        }

        writer.Join();
        queued.Dispose();
        ResetConnection();
    }

    private void Run()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (true)
        {
            batch.Clear();
            lock (gate)
            {
                while (batch.Count < MaxBatch && queue.TryDequeue(out var pending))
                {
                    batch.Add(pending);
                }

                if (batch.Count == 0)
                {
                    if (closed)
                    {
                        return;
                    }

                    // Under the gate: an enqueue after this point sets the event again.
                    queued.Reset();
                }
            }

            if (batch.Count == 0)
            {
                queued.Wait();
                continue;
            }

            // A caller that gave up before its write started gets a cancelled task and no write.
            batch.RemoveAll(static pending => pending.CancelIfRequested());
            if (batch.Count > 0)
            {
                CommitBatch(batch);
            }
        }
    }

    private void CommitBatch(List<PendingWrite> batch)
    {
        // Whatever a write throws is its caller's error; the writer thread itself must go on.
        SqliteConnection? db = null;
        try
        {
            db = connection ??= database.Open();
            SetSynchronous(db, full: batch.Exists(pending => pending.Durable));

            // BEGIN and COMMIT as the connection's kept statements, not SqliteTransaction: that
            // prepares a new command for each, twice per batch, and a lone message is two batches
            // (its insert, then its ack's delete).
            database.Command(db, "BEGIN IMMEDIATE").ExecuteNonQuery();
            foreach (var pending in batch)
            {
                pending.Run(db);
            }

            database.Command(db, "COMMIT").ExecuteNonQuery();
            ServerMetrics.CommitBatchSize.Observe(batch.Count);
            foreach (var pending in batch)
            {
                pending.Publish();
            }
        }
        catch (Exception e)
        {
            RollBack(db);
            ResetConnection();
            if (batch.Count == 1)
            {
                batch[0].Fail(e);
                return;
            }

            // Replay one by one so that only the write that fails is failed.
            foreach (var pending in batch)
            {
                CommitBatch([pending]);
            }
        }
    }

    /// <summary>
    /// Ends the transaction a failed batch left open, if SQLite has not already: the connection
    /// goes back to Microsoft.Data.Sqlite's pool, and must not take the write lock with it.
    /// </summary>
    private static void RollBack(SqliteConnection? db)
    {
        if (db?.Handle is not { } handle || SQLitePCL.raw.sqlite3_get_autocommit(handle) != 0)
        {
            return;
        }

        try
        {
            using var rollback = db.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // The connection is closed next, which rolls back what is left.
        }
    }

    private void SetSynchronous(SqliteConnection db, bool full)
    {
        if (synchronousFull == full)
        {
            return;
        }

        database.Command(db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL").ExecuteNonQuery();
        synchronousFull = full;
    }

    private void ResetConnection()
    {
        if (connection is not null)
        {
            database.Forget(connection);
        }

        connection = null;
        synchronousFull = true;
    }

    private abstract class PendingWrite(bool durable)
    {
        internal bool Durable { get; } = durable;

        /// <summary>True (and the caller's task cancelled) when the caller cancelled before the write ran.</summary>
        internal abstract bool CancelIfRequested();

        internal abstract void Run(SqliteConnection connection);

        /// <summary>After COMMIT: hands the result to the caller.</summary>
        internal abstract void Publish();

        internal abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, CancellationToken, Task<T>> write, bool durable, CancellationToken cancellationToken) : PendingWrite(durable)
    {
        // Continuations must not run on the writer thread: it has the next batch to commit.
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T result = default!;

        internal Task<T> Task => completion.Task;

        internal override bool CancelIfRequested()
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            completion.TrySetCanceled(cancellationToken);
            return true;
        }

        internal override void Run(SqliteConnection connection) =>
            result = write(connection, CancellationToken.None).GetAwaiter().GetResult();

        internal override void Publish() => completion.TrySetResult(result);

        internal override void Fail(Exception exception) => completion.TrySetException(exception);
    }
}
