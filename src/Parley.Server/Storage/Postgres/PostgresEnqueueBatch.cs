using System.Threading.Channels;
using Npgsql;
using Parley.Server.Hosting;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// Group commit for enqueues on PostgreSQL: one loop takes every envelope queued while the previous
/// transaction was committing and inserts them in one transaction (one round trip for the locks and
/// inserts, one for COMMIT), instead of two round trips and a commit per envelope. Each caller's
/// task completes only after that COMMIT returned (synchronous_commit on: durable).
/// </summary>
/// <remarks>
/// The per-recipient advisory locks that keep sequences visible in order are taken first, in
/// ordinal order of recipient, so two batches (or a batch and a single enqueue on another node)
/// cannot deadlock (one node runs one batch at a time; two nodes whose recipients' hashtext values
/// collide in opposite name order could, and PostgreSQL's deadlock detection then aborts one batch,
/// whose envelopes are retried alone). A duplicate (sender, id) inside one batch is stored once, as across batches.
/// If the batch fails (an unknown recipient breaks the foreign key), it rolls back and each
/// envelope is retried alone, so only the bad one fails.
/// </remarks>
internal sealed class PostgresEnqueueBatch : IAsyncDisposable
{
    internal const int MaxBatch = 256;

    private readonly NpgsqlDataSource dataSource;
    private readonly Func<StoredEnvelope, CancellationToken, Task<bool>> enqueueAlone;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;

    internal PostgresEnqueueBatch(NpgsqlDataSource dataSource, Func<StoredEnvelope, CancellationToken, Task<bool>> enqueueAlone)
    {
        this.dataSource = dataSource;
        this.enqueueAlone = enqueueAlone;
        loop = Task.Run(RunAsync);
    }

    internal Task<bool> EnqueueAsync(StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(envelope, cancellationToken);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(pending), this);
        return pending.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                {
                    pending.Completion.TrySetCanceled(pending.CancellationToken);
                }
                else
                {
                    batch.Add(pending);
                }
            }

            if (batch.Count > 0)
            {
                ServerMetrics.CommitBatchSize.Observe(batch.Count);
            }

            if (batch.Count == 1)
            {
                await CompleteAloneAsync(batch[0]).ConfigureAwait(false);
            }
            else if (batch.Count > 1)
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        bool[] stored;
        // Whatever the batch throws is retried per envelope below; this loop itself must go on.
        try
        {
            stored = await InsertAllAsync(batch).ConfigureAwait(false);
        }
        catch (Exception)
        {
            foreach (var pending in batch)
            {
                await CompleteAloneAsync(pending).ConfigureAwait(false);
            }

            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetResult(stored[i]);
        }
    }

    private async Task<bool[]> InsertAllAsync(List<Pending> batch)
    {
        var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var command = new NpgsqlBatch(connection, transaction);
                await using (command.ConfigureAwait(false))
                {
                    foreach (var recipient in batch.Select(p => p.Envelope.Recipient).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                    {
                        command.BatchCommands.Add(PostgresMailboxStore.RecipientLock(recipient));
                    }

                    var inserts = batch.Select(p => PostgresMailboxStore.Insert(p.Envelope)).ToList();
                    foreach (var insert in inserts)
                    {
                        command.BatchCommands.Add(insert);
                    }

                    await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                    return [.. inserts.Select(i => i.RecordsAffected == 1)];
                }
            }
        }
    }

    private async Task CompleteAloneAsync(Pending pending)
    {
        try
        {
            pending.Completion.TrySetResult(await enqueueAlone(pending.Envelope, pending.CancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (pending.CancellationToken.IsCancellationRequested)
        {
            pending.Completion.TrySetCanceled(pending.CancellationToken);
        }
        catch (Exception e)
        {
            pending.Completion.TrySetException(e);
        }
    }

    private sealed record Pending(StoredEnvelope Envelope, CancellationToken CancellationToken)
    {
        // Continuations must not run on the batching loop: it has the next batch to commit.
        internal TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
