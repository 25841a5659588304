using System.Text;
using Microsoft.Data.Sqlite;

namespace Parley.Client.Profile;

/// <summary>
/// The outbox, the inbox and the history, in one <c>messages</c> table. A sent message is stored
/// (with the session state that encrypted it) before it leaves and is retried with the same id
/// until acked; a received one is stored (with the session state that decrypted it) before it is
/// acked and deduplicated by sender and id. So a kill -9 at any point loses nothing and shows nothing twice.
/// </summary>
public sealed partial class ProfileStore
{
    /// <summary>Longest received message id accepted.</summary>
    public const int MaxMessageIdSize = 64;

    private const string HistoryColumns = "peer, message_id, outgoing, status, time, sent, body";

    /// <summary>Puts a message in the outbox.</summary>
    public void EnqueueOutgoing(OutgoingMessage message)
    {
        ValidateOutgoing(message);
        Write(() => EnqueueCore(message));
    }

    /// <summary>
    /// Puts a message in the outbox and stores the session state that produced its ciphertext, in
    /// one transaction: the ratchet state is never persisted without its ciphertext, nor the
    /// reverse, so a message key never encrypts two plaintexts (docs/protocol.md §8).
    /// </summary>
    public void EnqueueOutgoing(OutgoingMessage message, string peer, byte[] sessionState)
    {
        ValidateOutgoing(message);
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ArgumentNullException.ThrowIfNull(sessionState);
        Write(() =>
        {
            EnqueueCore(message);
            StoreSessionCore(peer, sessionState);
        });
    }

    /// <summary>The messages not yet acked by the server, oldest first: send each again with its id.</summary>
    public IReadOnlyList<OutgoingMessage> PendingOutgoing() => Read(() =>
    {
        var pending = new List<OutgoingMessage>();
        using var command = Command("SELECT peer, message_id, ciphertext, body, local_time FROM messages WHERE outgoing = 1 AND sent = 0 ORDER BY local_time, seq");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var peer = reader.GetString(0);
            var id = reader.GetFieldValue<byte[]>(1);
            var ciphertext = OpenColumn(reader, 2, MessageField("ciphertext", outgoing: true, peer, id))
                ?? throw ProfileError.Corrupt("an outbox message has no ciphertext");
            var text = OpenColumn(reader, 3, MessageField("body", outgoing: true, peer, id))
                ?? throw ProfileError.Corrupt("an outbox message has no text");
            pending.Add(new OutgoingMessage(id, peer, ciphertext, Encoding.UTF8.GetString(text), FromStored(reader.GetInt64(4))));
        }

        return pending;
    });

    /// <summary>
    /// The server acked the message: it leaves the outbox (its ciphertext is dropped) and stays in
    /// the history as sent, at the server's time. False if no such message is waiting (e.g. a repeated ack).
    /// </summary>
    public bool MarkSent(byte[] messageId, DateTimeOffset serverTimestamp)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        return Write(() => Execute(
            "UPDATE messages SET sent = 1, server_time = $time, time = $time, ciphertext = NULL WHERE outgoing = 1 AND message_id = $id AND sent = 0",
            ("$id", messageId),
            ("$time", ToStored(serverTimestamp))) == 1);
    }

    /// <summary>
    /// Stores a received message and, if given, the session state that decrypted it, in one
    /// transaction. Returns false and changes nothing when this sender's message id is already
    /// stored (a redelivery: ack it again, do not show it twice).
    /// </summary>
    public bool StoreIncoming(IncomingMessage message, string? peer, byte[]? sessionState)
    {
        ArgumentNullException.ThrowIfNull(message);
        ValidateMessageId(message.MessageId, nameof(message));
        ArgumentException.ThrowIfNullOrEmpty(message.Sender, nameof(message));
        if (sessionState is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(peer);
        }

        return Write(() =>
        {
            if (HasIncomingCore(message.Sender, message.MessageId))
            {
                return false;
            }

            var body = message.Text is null
                ? null
                : key.Seal(MessageField("body", outgoing: false, message.Sender, message.MessageId), Encoding.UTF8.GetBytes(message.Text));
            Execute(
                """
                INSERT INTO messages (peer, message_id, outgoing, status, time, local_time, server_time, sent, shown, body, ciphertext)
                VALUES ($peer, $id, 0, $status, $server_time, $received_at, $server_time, 1, 0, $body, NULL)
                """,
                ("$peer", message.Sender),
                ("$id", message.MessageId),
                ("$status", (long)message.Status),
                ("$server_time", ToStored(message.ServerTime)),
                ("$received_at", ToStored(message.ReceivedAt)),
                ("$body", body));
            if (sessionState is not null)
            {
                StoreSessionCore(peer!, sessionState);
            }

            return true;
        });
    }

    /// <summary>Whether a message with this id from <paramref name="sender"/> is already stored.</summary>
    public bool HasIncoming(string sender, byte[] messageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sender);
        ArgumentNullException.ThrowIfNull(messageId);
        return Read(() => HasIncomingCore(sender, messageId));
    }

    /// <summary>The received messages not yet shown, by time; they are marked shown in the same transaction.</summary>
    public IReadOnlyList<HistoryEntry> TakeUnshown() => Write(() =>
    {
        var entries = ReadHistory($"SELECT {HistoryColumns} FROM messages WHERE outgoing = 0 AND shown = 0 ORDER BY time, seq");
        Execute("UPDATE messages SET shown = 1 WHERE outgoing = 0 AND shown = 0");
        return entries;
    });

    /// <summary>The conversation with <paramref name="peer"/>, both directions, by time.</summary>
    public IReadOnlyList<HistoryEntry> History(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return Read(() => ReadHistory($"SELECT {HistoryColumns} FROM messages WHERE peer = $peer ORDER BY time, seq", ("$peer", peer)));
    }

    private static SealedField MessageField(string column, bool outgoing, string peer, byte[] messageId) =>
        new("messages", column, $"{(outgoing ? "out" : "in")}/{peer}/{Convert.ToHexStringLower(messageId)}");

    private static void ValidateOutgoing(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.MessageId, nameof(message));
        if (message.MessageId.Length != OutgoingMessage.MessageIdSize)
        {
            throw new ArgumentException($"The message id must be {OutgoingMessage.MessageIdSize} bytes.", nameof(message));
        }

        ArgumentException.ThrowIfNullOrEmpty(message.Recipient, nameof(message));
        ArgumentNullException.ThrowIfNull(message.Ciphertext, nameof(message));
        ArgumentNullException.ThrowIfNull(message.Text, nameof(message));
    }

    private static void ValidateMessageId(byte[]? messageId, string paramName)
    {
        if (messageId is not { Length: > 0 and <= MaxMessageIdSize })
        {
            throw new ArgumentException($"The message id must be 1 to {MaxMessageIdSize} bytes.", paramName);
        }
    }

    private void EnqueueCore(OutgoingMessage message)
    {
        try
        {
            Execute(
                """
                INSERT INTO messages (peer, message_id, outgoing, status, time, local_time, server_time, sent, shown, body, ciphertext)
                VALUES ($peer, $id, 1, $status, $created_at, $created_at, NULL, 0, 1, $body, $ciphertext)
                """,
                ("$peer", message.Recipient),
                ("$id", message.MessageId),
                ("$status", (long)MessageStatus.Delivered),
                ("$created_at", ToStored(message.CreatedAt)),
                ("$body", key.Seal(MessageField("body", outgoing: true, message.Recipient, message.MessageId), Encoding.UTF8.GetBytes(message.Text))),
                ("$ciphertext", key.Seal(MessageField("ciphertext", outgoing: true, message.Recipient, message.MessageId), message.Ciphertext)));
        }
        catch (SqliteException e) when (IsConstraintViolation(e))
        {
            throw new ArgumentException("A message with this id was already sent or queued.", nameof(message), e);
        }
    }

    private bool HasIncomingCore(string sender, byte[] messageId) =>
        Scalar("SELECT 1 FROM messages WHERE outgoing = 0 AND peer = $peer AND message_id = $id", ("$peer", sender), ("$id", messageId)) is not null;

    private List<HistoryEntry> ReadHistory(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var entries = new List<HistoryEntry>();
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var peer = reader.GetString(0);
            var id = reader.GetFieldValue<byte[]>(1);
            var outgoing = reader.GetInt64(2) != 0;
            var status = (MessageStatus)reader.GetInt64(3);
            if (!Enum.IsDefined(status))
            {
                throw ProfileError.Corrupt($"unknown message status {(long)status}");
            }

            var text = OpenColumn(reader, 6, MessageField("body", outgoing, peer, id));
            entries.Add(new HistoryEntry(id, peer, outgoing, text is null ? null : Encoding.UTF8.GetString(text), status, FromStored(reader.GetInt64(4)), reader.GetInt64(5) != 0));
        }

        return entries;
    }

    private byte[]? OpenColumn(SqliteDataReader reader, int ordinal, SealedField field) =>
        reader.IsDBNull(ordinal) ? null : key.Open(field, reader.GetFieldValue<byte[]>(ordinal));
}
