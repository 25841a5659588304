namespace Parley.Server.Storage;

/// <summary>Registered users, their certificates, revocations and invites.</summary>
internal interface IUserStore
{
    /// <summary>The user with this (already case-folded) name, or null.</summary>
    Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the user with this (already case-folded) name is revoked and how many envelopes
    /// wait for them, read in one O(1) lookup (what every send checks), or null if unknown.
    /// </summary>
    Task<MailboxRecipient?> GetRecipientAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the user; returns false, changing nothing, if the name is taken.</summary>
    Task<bool> TryCreateUserAsync(UserRecord user, CancellationToken cancellationToken);

    /// <summary>All users, ordered by name.</summary>
    Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Marks the user's certificate revoked at <paramref name="at"/> and, in the same transaction,
    /// records its serial in the revoked certificates; false if unknown or already revoked.
    /// </summary>
    Task<bool> RevokeUserAsync(string name, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Re-registration after a revocation (a lost device): in one transaction, replaces the row of
    /// <c>user.Name</c> with <paramref name="user"/> (a new identity and certificate) only if that
    /// row is currently revoked, and deletes the old identity's prekeys (signed, last-resort,
    /// one-time and one-time KEM). Returns false, changing nothing, if the name is unknown or not
    /// revoked; <c>user.RevokedAt</c> must be null (ArgumentException otherwise). The old
    /// certificate stays in the revoked certificates for good. Envelopes queued for the name stay:
    /// they were encrypted to the old identity, so the new client receives them and reports them
    /// as undecryptable rather than losing them silently.
    /// </summary>
    Task<bool> TryReplaceRevokedUserAsync(UserRecord user, CancellationToken cancellationToken);

    /// <summary>
    /// Every certificate ever revoked (including those of names registered again since), ordered
    /// by revocation time then serial: what the revocation list is built from.
    /// </summary>
    Task<IReadOnlyList<(string Serial, DateTimeOffset RevokedAt)>> ListRevokedCertificatesAsync(CancellationToken cancellationToken);

    /// <summary>Whether a certificate of this identity (Ed25519 signing key) was ever revoked, under any name.</summary>
    Task<bool> IsIdentityRevokedAsync(byte[] signingKey, CancellationToken cancellationToken);

    /// <summary>
/// Stores an invite (only its SHA-256 hash is kept) valid until <paramref name="expires"/>. A hash
/// already stored is left as it is, so a used invite can never be revived.
/// </summary>
    Task CreateInviteAsync(byte[] inviteHash, DateTimeOffset expires, CancellationToken cancellationToken);

    /// <summary>Consumes an unexpired invite atomically; false if unknown, used or expired.</summary>
    Task<bool> TryConsumeInviteAsync(byte[] inviteHash, DateTimeOffset now, CancellationToken cancellationToken);
}
