namespace Parley.Server.Storage;

/// <summary>
/// What every send checks of its recipient, read in one lookup: whether their certificate is
/// revoked, and how many envelopes already wait for them.
/// </summary>
internal readonly record struct MailboxRecipient(bool Revoked, int Queued);
