using Npgsql;
using NpgsqlTypes;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// <see cref="IMailboxStore"/> on PostgreSQL. An identity column numbers envelopes in the order
/// they are inserted, not committed; so that a reader paging by sequence never skips one that
/// commits late, enqueues to the same recipient take a transaction-scoped advisory lock first
/// (enqueues to different recipients do not wait for each other).
/// </summary>
internal sealed class PostgresMailboxStore(NpgsqlDataSource dataSource) : IMailboxStore
{
    // First key of pg_advisory_xact_lock(int, int) for "a recipient's mailbox"; the second is hashtext(recipient).
    private const int RecipientLockClass = 0x5061_726C; // "Parl"

    public async Task<bool> EnqueueAsync(StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var insert = new NpgsqlBatchCommand("""
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
                var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        {
                            Parameters =
                            {
                                new NpgsqlParameter<int> { TypedValue = RecipientLockClass },
                                new NpgsqlParameter<string> { TypedValue = envelope.Recipient },
                            },
                        },
                        insert,
                    },
                };
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

        var command = dataSource.CreateCommand("DELETE FROM envelopes WHERE message_id = ANY(@ids) AND recipient = @recipient");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("recipient", recipient);
            command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = ids });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
        var command = dataSource.CreateCommand("SELECT count(*) FROM envelopes WHERE recipient = @recipient");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("recipient", recipient);
            return checked((int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
    }

    public async Task<long> CountAllQueuedAsync(CancellationToken cancellationToken)
    {
        var command = dataSource.CreateCommand("SELECT count(*) FROM envelopes");
        await using (command.ConfigureAwait(false))
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }
}
