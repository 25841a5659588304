using System.Text;
using Microsoft.Data.Sqlite;
using Parley.Protocol.Ratchet;

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

    private const string HistoryColumns = "peer, message_id, outgoing, status, time, sent, body, 0 AS missing, seq AS place, 1 AS kind";

    /// <summary>Gaps as history rows: one per revealing message, placed just before it (kind 0 sorts first).</summary>
    private static readonly string GapColumns = $"peer, NULL, 0, {(int)MessageStatus.Missing}, time, 1, NULL, SUM(missing), message_seq, 0";

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
    public bool StoreIncoming(IncomingMessage message, string? peer, byte[]? sessionState) =>
        StoreIncomingCore(message, peer, sessionState, session: null, gaps: null);

    /// <summary>
    /// As <see cref="StoreIncoming(IncomingMessage, string?, byte[])"/>, and records in the same
    /// transaction what the decrypt said about missing messages: the runs it opened become a gap in
    /// the history just before this message, and a message that arrived late closes its place in
    /// the gap it left. <paramref name="session"/> is the session's base key, which qualifies the
    /// chains (a responder's first chain is its signed prekey, which several sessions can share).
    /// </summary>
    public bool StoreIncoming(IncomingMessage message, string peer, byte[] sessionState, byte[] session, MessageGaps gaps)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(gaps);
        ArgumentNullException.ThrowIfNull(sessionState);
        return StoreIncomingCore(message, peer, sessionState, session, gaps);
    }

    private bool StoreIncomingCore(IncomingMessage message, string? peer, byte[]? sessionState, byte[]? session, MessageGaps? gaps)
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
            if (gaps is not null)
            {
                RecordGapsCore(message, session!, gaps);
            }

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

    /// <summary>
    /// The received messages and the gaps not yet shown, by time (a gap just before the message that
    /// revealed it); they are marked shown in the same transaction. A gap whose messages all arrived
    /// before it was shown is not shown at all.
    /// </summary>
    public IReadOnlyList<HistoryEntry> TakeUnshown() => Write(() =>
    {
        var entries = ReadHistory(
            $"""
            SELECT {HistoryColumns} FROM messages WHERE outgoing = 0 AND shown = 0
            UNION ALL
            SELECT {GapColumns} FROM gaps WHERE shown = 0 GROUP BY message_seq HAVING SUM(missing) > 0
            ORDER BY time, place, kind
            """);
        Execute("UPDATE messages SET shown = 1 WHERE outgoing = 0 AND shown = 0");
        Execute("UPDATE gaps SET shown = 1 WHERE shown = 0");
        return entries;
    });

    /// <summary>
    /// The conversation with <paramref name="peer"/>, both directions, by time, with a gap entry
    /// (<see cref="MessageStatus.Missing"/>) where messages from the peer are still missing.
    /// </summary>
    public IReadOnlyList<HistoryEntry> History(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return Read(() => ReadHistory(
            $"""
            SELECT {HistoryColumns} FROM messages WHERE peer = $peer
            UNION ALL
            SELECT {GapColumns} FROM gaps WHERE peer = $peer GROUP BY message_seq HAVING SUM(missing) > 0
            ORDER BY time, place, kind
            """,
            ("$peer", peer)));
    }

    /// <summary>How many of <paramref name="peer"/>'s messages are reported missing now (all gaps, shown or not).</summary>
    public long MissingFrom(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return Read(() => Scalar("SELECT COALESCE(SUM(missing), 0) FROM gaps WHERE peer = $peer", ("$peer", peer)) is long missing ? missing : 0);
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

    private void RecordGapsCore(IncomingMessage message, byte[] session, MessageGaps gaps)
    {
        if (gaps.Closed is { } late)
        {
            // The protocol opens a skipped key once, so a place is closed at most once.
            Execute(
                """
                UPDATE gaps SET missing = missing - 1
                WHERE peer = $peer AND session = $session AND chain = $chain
                  AND first_counter <= $counter AND $counter < until_counter AND missing > 0
                """,
                ("$peer", message.Sender),
                ("$session", session),
                ("$chain", late.Chain.ToArray()),
                ("$counter", (long)late.First));
        }

        if (gaps.Opened.Count == 0)
        {
            return;
        }

        var revealedBy = (long)Scalar("SELECT last_insert_rowid()")!;
        foreach (var run in gaps.Opened)
        {
            Execute(
                """
                INSERT INTO gaps (peer, session, chain, first_counter, until_counter, missing, message_seq, time, shown)
                VALUES ($peer, $session, $chain, $first, $until, $missing, $message_seq, $time, 0)
                """,
                ("$peer", message.Sender),
                ("$session", session),
                ("$chain", run.Chain.ToArray()),
                ("$first", (long)run.First),
                ("$until", (long)run.First + run.Count),
                ("$missing", (long)run.Count),
                ("$message_seq", revealedBy),
                ("$time", ToStored(message.ServerTime)));
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
            if (reader.GetInt64(9) == 0)
            {
                entries.Add(new HistoryEntry([], peer, false, null, MessageStatus.Missing, FromStored(reader.GetInt64(4)), true, reader.GetInt64(7)));
                continue;
            }

            var id = reader.GetFieldValue<byte[]>(1);
            var outgoing = reader.GetInt64(2) != 0;
            var status = (MessageStatus)reader.GetInt64(3);
            if (!Enum.IsDefined(status) || status == MessageStatus.Missing)
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
