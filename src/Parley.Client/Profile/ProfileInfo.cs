namespace Parley.Client.Profile;

/// <summary>
/// Who a profile belongs to and which server it uses. Stored sealed, so the pinned CA cannot be
/// swapped in the file without the passphrase.
/// </summary>
/// <param name="UserName">The registered user name.</param>
/// <param name="ServerUri">The server, e.g. <c>https://host:7443</c>.</param>
/// <param name="CaCertificatePem">The pinned server CA certificate (PEM).</param>
/// <param name="CreatedAt">When the profile was made (kept to the millisecond, in UTC).</param>
public sealed record ProfileInfo(string UserName, string ServerUri, string CaCertificatePem, DateTimeOffset CreatedAt);
