using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Parley.Server.Security;

/// <summary>
/// Fresh 32-byte challenges for registration and authentication: each is single use and expires
/// after <see cref="Lifetime"/>, so a captured signature cannot be replayed.
/// </summary>
internal sealed class ChallengeStore(TimeProvider time)
{
    internal const int Size = 32;

    internal static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private const int MaxOutstanding = 100_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> outstanding = new(StringComparer.Ordinal);

    internal byte[] Issue()
    {
        if (outstanding.Count > MaxOutstanding)
        {
            Sweep();
        }

        var challenge = RandomNumberGenerator.GetBytes(Size);
        outstanding[Convert.ToBase64String(challenge)] = time.GetUtcNow() + Lifetime;
        return challenge;
    }

    /// <summary>Consumes the challenge; false if it was never issued, already used or expired.</summary>
    internal bool TryConsume(ReadOnlySpan<byte> challenge)
    {
        if (challenge.Length != Size)
        {
            return false;
        }

        return outstanding.TryRemove(Convert.ToBase64String(challenge), out var expires) && expires > time.GetUtcNow();
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (key, expires) in outstanding)
        {
            if (expires <= now)
            {
                outstanding.TryRemove(key, out _);
            }
        }
    }
}
