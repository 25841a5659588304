namespace Parley.Server.Storage;

/// <summary>
/// The durable store-and-forward queue. Every method returns only after its change is committed
/// and, except an acknowledgement, durable (SQLite WAL with synchronous=FULL, PostgreSQL with
/// synchronous_commit on), so an acknowledged send survives a kill -9 of the server (and, with
/// synchronous=FULL, a power loss).
/// The recipient must be a registered user (the engines enforce it with a foreign key and throw).
/// </summary>
internal interface IMailboxStore
{
    /// <summary>
    /// Stores the envelope; returns false, storing nothing, when an envelope with the same
    /// (sender, message id) is already stored (an idempotent retry). The write is queued before
    /// the task is returned, so enqueues started one after another (without waiting) are stored,
    /// and delivered, in that order.
    /// </summary>
    Task<bool> EnqueueAsync(StoredEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>
    /// Whether an envelope with this (sender, message id) is stored, still unacknowledged: lets a
    /// send that would be refused (a full mailbox) tell an idempotent retry from a new message.
    /// </summary>
    Task<bool> ContainsAsync(string sender, byte[] messageId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> of the recipient's envelopes with sequence greater than <paramref name="afterSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<StoredEnvelope>> PeekAsync(string recipient, long afterSequence, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the recipient's envelopes with these ids; returns how many were deleted. Unknown ids
    /// are ignored. The delete is committed but need not be durable yet: an ack lost in a crash
    /// only means the envelope is pushed again, and the client drops the repeat by id.
    /// </summary>
    Task<int> AcknowledgeAsync(string recipient, IReadOnlyList<byte[]> messageIds, CancellationToken cancellationToken);

    /// <summary>How many envelopes wait for the recipient.</summary>
    Task<int> CountQueuedAsync(string recipient, CancellationToken cancellationToken);

    /// <summary>How many envelopes wait in all (for the queue-depth metric).</summary>
    Task<long> CountAllQueuedAsync(CancellationToken cancellationToken);

    /// <summary>
    /// True when every write commits in the order it was queued, acknowledgements included (one
    /// writer). Then an envelope may be pushed to its connected recipient while its own commit is
    /// still under way: the recipient's ack of it is queued after it, so it cannot commit first.
    /// </summary>
    bool CommitsInQueueOrder { get; }

    /// <summary>
    /// Completes once every write queued before the call is committed and visible to reads. Only
    /// meaningful when <see cref="CommitsInQueueOrder"/>; otherwise it completes at once.
    /// </summary>
    Task WaitForQueuedWritesAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One stored message. <see cref="Sequence"/> is assigned by the store on enqueue (monotonic per
/// store) and orders delivery; it is 0 on an envelope not yet stored. For one recipient,
/// envelopes become visible in sequence order, so a reader paging with afterSequence never skips
/// an envelope that commits later (PostgreSQL serializes enqueues per recipient to keep this).
/// </summary>
internal sealed record StoredEnvelope(
    byte[] MessageId,
    string Sender,
    string Recipient,
    byte[] Body,
    long ServerTimestampMs,
    long Sequence = 0);
