using Npgsql;
using NpgsqlTypes;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// <see cref="IMailboxStore"/> on PostgreSQL. An identity column numbers envelopes in the order
/// they are inserted, not committed; so that a reader paging by sequence never skips one that
/// commits late, enqueues to the same recipient take a transaction-scoped advisory lock first
/// (enqueues to different recipients do not wait for each other).
/// </summary>
internal sealed class PostgresMailboxStore : IMailboxStore, IAsyncDisposable
{
    // First key of pg_advisory_xact_lock(int, int) for "a recipient's mailbox"; the second is hashtext(recipient).
    private const int RecipientLockClass = 0x5061_726C; // "Parl"

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresEnqueueBatch batches;

    public PostgresMailboxStore(NpgsqlDataSource dataSource)
    {
        this.dataSource = dataSource;
        batches = new PostgresEnqueueBatch(dataSource, EnqueueAloneAsync);
    }

    /// <summary>Lets the enqueues already queued finish.</summary>
    public ValueTask DisposeAsync() => batches.DisposeAsync();

    /// <summary>Envelopes sent concurrently share a transaction (<see cref="PostgresEnqueueBatch"/>).</summary>
    public Task<bool> EnqueueAsync(StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return batches.EnqueueAsync(envelope, cancellationToken);
    }

    /// <summary>Enqueues one envelope in its own transaction (the batch's fallback).</summary>
    internal async Task<bool> EnqueueAloneAsync(StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var insert = Insert(envelope);
                var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { RecipientLock(envelope.Recipient), insert } };
                await using (batch.ConfigureAwait(false))
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // With synchronous_commit on, COMMIT returns only once the commit record is flushed.
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return insert.RecordsAffected == 1;
            }
        }
    }

    /// <summary>pg_advisory_xact_lock on the recipient's mailbox.</summary>
    internal static NpgsqlBatchCommand RecipientLock(string recipient) => new("SELECT pg_advisory_xact_lock($1, hashtext($2))")
    {
        Parameters =
        {
            new NpgsqlParameter<int> { TypedValue = RecipientLockClass },
            new NpgsqlParameter<string> { TypedValue = recipient },
        },
    };

    /// <summary>The insert of one envelope; RecordsAffected is 0 for a duplicate (sender, id).</summary>
    internal static NpgsqlBatchCommand Insert(StoredEnvelope envelope) => new("""
        INSERT INTO envelopes (message_id, sender, recipient, body, server_ts)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (message_id, sender) DO NOTHING
        """)
    {
        Parameters =
        {
            new NpgsqlParameter<byte[]> { TypedValue = envelope.MessageId },
            new NpgsqlParameter<string> { TypedValue = envelope.Sender },
            new NpgsqlParameter<string> { TypedValue = envelope.Recipient },
            new NpgsqlParameter<byte[]> { TypedValue = envelope.Body },
            new NpgsqlParameter<long> { TypedValue = envelope.ServerTimestampMs },
        },
    };

    public async Task<IReadOnlyList<StoredEnvelope>> PeekAsync(string recipient, long afterSequence, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var command = dataSource.CreateCommand("""
            SELECT sequence, message_id, sender, recipient, body, server_ts
            FROM envelopes
            WHERE recipient = @recipient AND sequence > @after
            ORDER BY sequence
            LIMIT @max
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("recipient", recipient);
            command.Parameters.AddWithValue("after", afterSequence);
            command.Parameters.AddWithValue("max", max);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await EnvelopeRows.ReadAllAsync(reader, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<int> AcknowledgeAsync(string recipient, IReadOnlyList<byte[]> messageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(messageIds);
        if (messageIds.Count == 0)
        {
            return 0;
        }

        var ids = new byte[messageIds.Count][];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = messageIds[i] ?? throw new ArgumentNullException(nameof(messageIds));
        }

        // Committed without waiting for the WAL flush (synchronous_commit off for this transaction
        // only): an ack lost in a crash means a repeat the client drops, and the sends committing
        // meanwhile keep their own durable commits.
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"),
                        new NpgsqlBatchCommand("DELETE FROM envelopes WHERE message_id = ANY(@ids) AND recipient = @recipient")
                        {
                            Parameters =
                            {
                                new NpgsqlParameter("recipient", recipient),
                                new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = ids },
                            },
                        },
                    },
                };
                await using (batch.ConfigureAwait(false))
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return batch.BatchCommands[1].RecordsAffected;
                }
            }
        }
    }

    public async Task<bool> ContainsAsync(string sender, byte[] messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(messageId);
        var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM envelopes WHERE message_id = @message_id AND sender = @sender)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("message_id", messageId);
            command.Parameters.AddWithValue("sender", sender);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task<int> CountQueuedAsync(string recipient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var command = dataSource.CreateCommand("SELECT coalesce((SELECT queued FROM mailbox_depths WHERE recipient = @recipient), 0)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("recipient", recipient);
            return checked((int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
    }

    /// <summary>Enqueues are batched on their own connection and acks run on any: an ack may commit before the enqueue it answers.</summary>
    public bool CommitsInQueueOrder => false;

    public Task WaitForQueuedWritesAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<long> CountAllQueuedAsync(CancellationToken cancellationToken)
    {
        var command = dataSource.CreateCommand("SELECT coalesce(sum(queued), 0)::bigint FROM mailbox_depths");
        await using (command.ConfigureAwait(false))
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }
}
