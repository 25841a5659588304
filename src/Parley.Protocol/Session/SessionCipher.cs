using Parley.Protocol.Internal;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Session;

/// <summary>
/// Encrypts to and decrypts from one peer using the caller's stores: loads the session before
/// each message, stores it after each success, pins the peer's identity on first use and refuses
/// a changed identity (<see cref="ProtocolErrorKind.UntrustedIdentity"/>) until the user accepts
/// it through <see cref="IIdentityKeyStore.Pin"/>. Not thread-safe per peer: callers serialize
/// the messages of one conversation.
/// </summary>
public sealed class SessionCipher
{
    private readonly string peer;
    private readonly ISessionStore sessions;
    private readonly IPreKeyStore preKeys;
    private readonly IIdentityKeyStore identities;

    /// <summary>Creates a cipher for messages with <paramref name="peer"/>.</summary>
    public SessionCipher(string peer, ISessionStore sessions, IPreKeyStore preKeys, IIdentityKeyStore identities)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(preKeys);
        ArgumentNullException.ThrowIfNull(identities);
        this.peer = peer;
        this.sessions = sessions;
        this.preKeys = preKeys;
        this.identities = identities;
    }

    /// <summary>True when a session with the peer is stored.</summary>
    public bool HasSession => sessions.LoadSession(peer) is not null;

    /// <summary>
    /// Starts a session from the peer's bundle (the caller has checked that the bundle's identity
    /// is the one the CA certified for the peer's name) and stores it.
    /// </summary>
    public void ProcessBundle(PreKeyBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        using var session = RatchetSession.Initiate(identities.LocalIdentity, bundle);
        Trust(session.RemoteIdentity);
        sessions.StoreSession(peer, session.Serialize());
    }

    /// <summary>Encrypts for the peer; returns the serialized CiphertextMessage.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        using var session = Load() ?? throw Error.NoSession();
        Trust(session.RemoteIdentity);
        var message = session.Encrypt(plaintext);
        sessions.StoreSession(peer, session.Serialize());
        return message;
    }

    /// <summary>
    /// Decrypts a message from the peer. A PreKeyMessage that starts a new session is accepted
    /// (and replaces the stored session) only if it decrypts and its identity is trusted.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> bytes)
    {
        var message = RatchetSession.ParseMessage(bytes);
        using var existing = Load();
        if (message.BodyCase == CiphertextMessage.BodyOneofCase.PreKey && (existing is null || !existing.Matches(message.PreKey)))
        {
            var claimed = Identity.IdentityKey.FromWire(message.PreKey.Identity);
            if (identities.GetTrust(peer, claimed) == IdentityTrust.Changed)
            {
                throw Error.UntrustedIdentity(peer);
            }

            using var accepted = RatchetSession.Accept(identities.LocalIdentity, message.PreKey, preKeys, claimed, out var plaintext);
            Trust(accepted.RemoteIdentity);
            sessions.StoreSession(peer, accepted.Serialize());
            return plaintext;
        }

        if (existing is null)
        {
            throw Error.NoSession();
        }

        Trust(existing.RemoteIdentity);
        var decrypted = existing.Decrypt(message);
        sessions.StoreSession(peer, existing.Serialize());
        return decrypted;
    }

    private RatchetSession? Load() => sessions.LoadSession(peer) is { } bytes ? RatchetSession.Deserialize(bytes) : null;

    private void Trust(Identity.IdentityKey identity)
    {
        switch (identities.GetTrust(peer, identity))
        {
            case IdentityTrust.FirstUse:
                identities.Pin(peer, identity);
                break;
            case IdentityTrust.Changed:
                throw Error.UntrustedIdentity(peer);
        }
    }
}
