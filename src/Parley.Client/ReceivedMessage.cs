using Parley.Client.Profile;

namespace Parley.Client;

/// <summary>
/// A message as the user sees it after receiving: text only when it decrypted and verified.
/// <paramref name="MissingBefore"/> counts the sender's earlier messages that this one showed have
/// not arrived (the server did not deliver them); a later delivery of one of them is a message of its own.
/// </summary>
public sealed record ReceivedMessage(string Sender, string? Text, MessageStatus Status, DateTimeOffset ServerTime, bool SenderVerified, long MissingBefore = 0);
