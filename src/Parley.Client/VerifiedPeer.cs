namespace Parley.Client;

/// <summary>The other side of an invite code, proved by the code and checked against the pinned CA and its revocation list.</summary>
/// <param name="Name">The peer's user name, from its certificate.</param>
/// <param name="SafetyNumber">The 60-digit safety number of the two identities (unformatted).</param>
public sealed record VerifiedPeer(string Name, string SafetyNumber);
