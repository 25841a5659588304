namespace Parley.Client.Profile;

/// <summary>A received message, stored (and deduplicated by sender and id) before it is acked.</summary>
/// <param name="MessageId">The sender's message id.</param>
/// <param name="Sender">The sender's user name.</param>
/// <param name="Text">The plaintext when <paramref name="Status"/> is <see cref="MessageStatus.Delivered"/>, otherwise null.</param>
/// <param name="Status">What became of it.</param>
/// <param name="ServerTime">When the server accepted it (kept to the millisecond, in UTC).</param>
/// <param name="ReceivedAt">When this client received it (kept to the millisecond, in UTC).</param>
public sealed record IncomingMessage(byte[] MessageId, string Sender, string? Text, MessageStatus Status, DateTimeOffset ServerTime, DateTimeOffset ReceivedAt);
