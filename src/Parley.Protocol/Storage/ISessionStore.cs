namespace Parley.Protocol.Storage;

/// <summary>
/// Where serialized sessions live, one per peer name. <see cref="Session.SessionCipher"/> loads
/// the session before each message and stores it after each success, so a crash between two
/// messages loses at most the message in flight, never the session.
/// </summary>
public interface ISessionStore
{
    /// <summary>The serialized session with <paramref name="peer"/>, or null if there is none.</summary>
    byte[]? LoadSession(string peer);

    /// <summary>Replaces the session with <paramref name="peer"/>. The bytes hold secrets: seal them at rest.</summary>
    void StoreSession(string peer, byte[] session);
}
