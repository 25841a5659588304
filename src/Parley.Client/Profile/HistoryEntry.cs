namespace Parley.Client.Profile;

/// <summary>One message of a conversation, in either direction.</summary>
/// <param name="MessageId">The message id.</param>
/// <param name="Peer">The other party.</param>
/// <param name="Outgoing">True for a message this user sent.</param>
/// <param name="Text">The text, or null for a received message that was not delivered intact.</param>
/// <param name="Status">For received messages what became of them; always <see cref="MessageStatus.Delivered"/> for sent ones.</param>
/// <param name="Time">
/// The server's time: when it accepted a received message, or acked a sent one; for a sent
/// message still in the outbox, when the user sent it.
/// </param>
/// <param name="Sent">For a sent message, whether the server acked it; always true for a received one.</param>
/// <param name="MissingCount">
/// For a gap (<see cref="MessageStatus.Missing"/>, placed just before the message that revealed it,
/// at its time, with an empty id): how many of the peer's messages are still missing there; 0 otherwise.
/// </param>
public sealed record HistoryEntry(byte[] MessageId, string Peer, bool Outgoing, string? Text, MessageStatus Status, DateTimeOffset Time, bool Sent, long MissingCount = 0)
{
    /// <summary>True for a gap rather than a message.</summary>
    public bool IsGap => Status == MessageStatus.Missing;
}
