using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Parley.Server.Security;

/// <summary>
/// Tokens handed out by Authenticate. A token is bound to the connection it was issued on: the
/// same bearer token presented on another connection is refused, so a token that leaks (a log, a
/// proxy) is useless elsewhere. Tokens live in memory; a restart means clients authenticate again.
/// </summary>
internal sealed class SessionTokens(TimeProvider time)
{
    internal static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly ConcurrentDictionary<string, Entry> tokens = new(StringComparer.Ordinal);

    internal (string Token, DateTimeOffset Expires) Issue(string user, string connectionId)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var expires = time.GetUtcNow() + Lifetime;
        tokens[token] = new Entry(user, connectionId, expires);
        return (token, expires);
    }

    /// <summary>The user the token belongs to, if it is valid on this connection.</summary>
    internal string? Resolve(string token, string connectionId)
    {
        if (!tokens.TryGetValue(token, out var entry))
        {
            return null;
        }

        if (entry.Expires <= time.GetUtcNow())
        {
            tokens.TryRemove(token, out _);
            return null;
        }

        return string.Equals(entry.ConnectionId, connectionId, StringComparison.Ordinal) ? entry.User : null;
    }

    /// <summary>Every unexpired token's user and when it was issued (one entry per token).</summary>
    internal IEnumerable<(string User, DateTimeOffset Issued)> SignedIn()
    {
        var now = time.GetUtcNow();
        foreach (var entry in tokens.Values)
        {
            if (entry.Expires > now)
            {
                yield return (entry.User, entry.Expires - Lifetime);
            }
        }
    }

    /// <summary>Forgets every token of <paramref name="user"/> (on revocation).</summary>
    internal void RevokeAll(string user)
    {
        foreach (var (token, entry) in tokens)
        {
            if (string.Equals(entry.User, user, StringComparison.Ordinal))
            {
                tokens.TryRemove(token, out _);
            }
        }
    }

    private sealed record Entry(string User, string ConnectionId, DateTimeOffset Expires);
}
