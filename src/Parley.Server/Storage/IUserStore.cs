namespace Parley.Server.Storage;

/// <summary>Registered users, their certificates, revocations and invites.</summary>
internal interface IUserStore
{
    /// <summary>The user with this (already case-folded) name, or null.</summary>
    Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the user; returns false, changing nothing, if the name is taken.</summary>
    Task<bool> TryCreateUserAsync(UserRecord user, CancellationToken cancellationToken);

    /// <summary>All users, ordered by name.</summary>
    Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>Marks the user's certificate revoked at <paramref name="at"/>; false if unknown or already revoked.</summary>
    Task<bool> RevokeUserAsync(string name, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
/// Stores an invite (only its SHA-256 hash is kept) valid until <paramref name="expires"/>. A hash
/// already stored is left as it is, so a used invite can never be revived.
/// </summary>
    Task CreateInviteAsync(byte[] inviteHash, DateTimeOffset expires, CancellationToken cancellationToken);

    /// <summary>Consumes an unexpired invite atomically; false if unknown, used or expired.</summary>
    Task<bool> TryConsumeInviteAsync(byte[] inviteHash, DateTimeOffset now, CancellationToken cancellationToken);
}
