namespace Parley.Client.Profile;

/// <summary>A message in the outbox: stored before it is sent and retried with the same id until the server acks it.</summary>
/// <param name="MessageId">The 16-byte client message id the server deduplicates on.</param>
/// <param name="Recipient">The peer's user name.</param>
/// <param name="Ciphertext">The serialized CiphertextMessage, sent as is on every retry.</param>
/// <param name="Text">The plaintext, for the sender's own history.</param>
/// <param name="CreatedAt">When the user sent it (kept to the millisecond, in UTC).</param>
public sealed record OutgoingMessage(byte[] MessageId, string Recipient, byte[] Ciphertext, string Text, DateTimeOffset CreatedAt)
{
    /// <summary>Size of <see cref="MessageId"/>.</summary>
    public const int MessageIdSize = 16;
}
