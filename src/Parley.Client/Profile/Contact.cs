namespace Parley.Client.Profile;

/// <summary>A contact as the user sees it.</summary>
/// <param name="Name">The peer's user name.</param>
/// <param name="Fingerprint">The pinned identity key's fingerprint, or null before first contact.</param>
/// <param name="Verified">True once the user compared safety numbers (<c>parley verify NAME --confirm</c>) for the pinned key.</param>
/// <param name="KeyChanged">True when the peer offered a different key; sending is blocked until the user accepts it.</param>
/// <param name="PinnedAt">When the current key was pinned, or null.</param>
public sealed record Contact(string Name, string? Fingerprint, bool Verified, bool KeyChanged, DateTimeOffset? PinnedAt);
