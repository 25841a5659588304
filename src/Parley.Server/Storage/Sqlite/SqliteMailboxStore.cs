using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// <see cref="IMailboxStore"/> on SQLite. Writers are serialized, so sequences (AUTOINCREMENT,
/// never reused) become visible in order.
/// </summary>
internal sealed class SqliteMailboxStore(SqliteDatabase database) : IMailboxStore
{
    /// <summary>
    /// One acknowledgement. The unary plus keeps SQLite off the (recipient, sequence) index, which
    /// it otherwise prefers: that index finds the row only by scanning everything queued for the
    /// recipient, O(queued) per ack, and a backlog then drains slower the longer it gets. The
    /// unique index on (message_id, sender) finds it in O(log n).
    /// </summary>
    internal const string AcknowledgeSql = "DELETE FROM envelopes WHERE message_id = $message_id AND +recipient = $recipient";

    public Task<bool> EnqueueAsync(StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return database.WriteAsync(async (connection, ct) =>
        {
            var command = database.Command(
                connection,
                """
                INSERT INTO envelopes (message_id, sender, recipient, body, server_ts)
                VALUES ($message_id, $sender, $recipient, $body, $server_ts)
                ON CONFLICT (message_id, sender) DO NOTHING
                """,
                "$message_id",
                "$sender",
                "$recipient",
                "$body",
                "$server_ts");
            var parameters = command.Parameters;
            parameters[0].Value = envelope.MessageId;
            parameters[1].Value = envelope.Sender;
            parameters[2].Value = envelope.Recipient;
            parameters[3].Value = envelope.Body;
            parameters[4].Value = envelope.ServerTimestampMs;
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StoredEnvelope>> PeekAsync(string recipient, long afterSequence, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return database.ReadAsync<IReadOnlyList<StoredEnvelope>>(async (connection, ct) =>
        {
            var command = database.Command(connection, """
                SELECT sequence, message_id, sender, recipient, body, server_ts
                FROM envelopes
                WHERE recipient = $recipient AND sequence > $after
                ORDER BY sequence
                LIMIT $max
                """);
            command.Parameters.AddWithValue("$recipient", recipient);
            command.Parameters.AddWithValue("$after", afterSequence);
            command.Parameters.AddWithValue("$max", max);
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return await EnvelopeRows.ReadAllAsync(reader, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<int> AcknowledgeAsync(string recipient, IReadOnlyList<byte[]> messageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(messageIds);
        if (messageIds.Count == 0)
        {
            return Task.FromResult(0);
        }

        // Not fsynced on its own: an ack lost in a crash only means the envelope is pushed again.
        return database.WriteWithoutSyncAsync(async (connection, ct) =>
        {
            var command = database.Command(connection, AcknowledgeSql, "$recipient", "$message_id");
            command.Parameters[0].Value = recipient;
            var messageId = command.Parameters[1];
            var deleted = 0;
            foreach (var id in messageIds)
            {
                ArgumentNullException.ThrowIfNull(id, nameof(messageIds));
                messageId.Value = id;
                deleted += await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return deleted;
        }, cancellationToken);
    }

    public Task<bool> ContainsAsync(string sender, byte[] messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(messageId);
        return database.ReadAsync(async (connection, ct) =>
        {
            var command = database.Command(connection, "SELECT EXISTS (SELECT 1 FROM envelopes WHERE message_id = $message_id AND sender = $sender)");
            command.Parameters.AddWithValue("$message_id", messageId);
            command.Parameters.AddWithValue("$sender", sender);
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))! == 1;
        }, cancellationToken);
    }

    public Task<int> CountQueuedAsync(string recipient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        return database.ReadAsync(async (connection, ct) =>
        {
            var command = database.Command(connection, "SELECT coalesce((SELECT queued FROM mailbox_depths WHERE recipient = $recipient), 0)");
            command.Parameters.AddWithValue("$recipient", recipient);
            return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    public bool CommitsInQueueOrder => true;

    public Task WaitForQueuedWritesAsync(CancellationToken cancellationToken) =>
        database.WriteWithoutSyncAsync((_, _) => Task.FromResult(true), cancellationToken);

    public Task<long> CountAllQueuedAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = database.Command(connection, "SELECT coalesce(sum(queued), 0) FROM mailbox_depths");
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, cancellationToken);
}
