using Parley.Client.Profile;

namespace Parley.Client;

/// <summary>A message as the user sees it after receiving: text only when it decrypted and verified.</summary>
public sealed record ReceivedMessage(string Sender, string? Text, MessageStatus Status, DateTimeOffset ServerTime, bool SenderVerified);
