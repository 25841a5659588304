using Parley.Protocol.Storage;

namespace Parley.Client.Profile;

/// <summary>Sealed ratchet sessions, one per peer: the <see cref="ISessionStore"/> half of the profile.</summary>
public sealed partial class ProfileStore : ISessionStore
{
    /// <inheritdoc/>
    public byte[]? LoadSession(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return Read(() => Scalar("SELECT state FROM sessions WHERE peer = $peer", ("$peer", peer)) is byte[] sealedState
            ? key.Open(SessionField(peer), sealedState)
            : null);
    }

    /// <inheritdoc/>
    public void StoreSession(string peer, byte[] session)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ArgumentNullException.ThrowIfNull(session);
        Write(() => StoreSessionCore(peer, session));
    }

    /// <summary>Forgets the session with <paramref name="peer"/> (after accepting a changed key, the next message starts a new one).</summary>
    public bool DeleteSession(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return Write(() => Execute("DELETE FROM sessions WHERE peer = $peer", ("$peer", peer)) > 0);
    }

    private static SealedField SessionField(string peer) => new("sessions", "state", peer);

    private void StoreSessionCore(string peer, byte[] session) => Execute(
        "INSERT INTO sessions (peer, state, updated_at) VALUES ($peer, $state, $now) ON CONFLICT (peer) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        ("$peer", peer),
        ("$state", key.Seal(SessionField(peer), session)),
        ("$now", ToStored(Now())));
}
