using Google.Protobuf;
using Parley.Api;
using Parley.Client.Connection;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;

namespace Parley.Load.Users;

/// <summary>
/// One load user: a registered identity, its own authenticated connection, and its protocol
/// state held in memory (sessions by peer, prekeys), not the client library's SQLite profile.
/// </summary>
internal sealed class LoadUser(string name, IdentityKeyPair identity) : IAsyncDisposable
{
    private readonly Dictionary<string, RatchetSession> sessions = new(StringComparer.Ordinal);
    private readonly Lock sessionsLock = new();

    internal string Name { get; } = name;

    internal IdentityKeyPair Identity { get; } = identity;

    /// <summary>Its place in the population: which node it connects to when there are several.</summary>
    internal int Slot { get; init; }

    internal InMemoryPreKeyStore PreKeys { get; } = new();

    internal ServerConnection? Connection { get; private set; }

    internal ServerConnection Server => Connection ?? throw new InvalidOperationException($"{Name} is not connected");

    private readonly HashSet<ByteString> received = [];
    private Outbox? outbox;

    /// <summary>
    /// Sends one envelope: over this user's SendStream call (opened on first use), or with
    /// <paramref name="unary"/> as one Send call. Throws RpcException when it is refused.
    /// </summary>
    internal async Task SendAsync(SendRequest request, bool unary, CancellationToken cancellationToken)
    {
        if (unary)
        {
            await Server.Mailbox.SendAsync(request, cancellationToken: cancellationToken);
            return;
        }

        var result = await (outbox ??= new Outbox(Server.Mailbox)).SendAsync(request, cancellationToken);
        if (result.StatusCode != 0)
        {
            throw new Grpc.Core.RpcException(new Grpc.Core.Status((Grpc.Core.StatusCode)result.StatusCode, result.Error));
        }
    }

    /// <summary>Opens a new connection and logs in on it (closing any previous one).</summary>
    internal async Task ConnectAsync(Server.ServerUnderTest server, CancellationToken cancellationToken)
    {
        await DisconnectAsync();
        Connection = server.Connect(Slot);
        await Connection.AuthenticateAsync(Name, Identity, cancellationToken);
    }

    internal void Adopt(ServerConnection connection) => Connection = connection;

    internal async Task DisconnectAsync()
    {
        if (outbox is not null)
        {
            await outbox.DisposeAsync();
            outbox = null;
        }

        if (Connection is not null)
        {
            await Connection.DisposeAsync();
            Connection = null;
        }
    }

    /// <summary>
    /// Publishes a fresh signed prekey and last-resort ML-KEM prekey (replacing the previous run's).
    /// No one-time prekeys: a cached user's earlier ones would outlive the private halves this
    /// process holds, and PQXDH without a one-time prekey is a case the protocol allows.
    /// </summary>
    internal async Task UploadPreKeysAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var baseId = (uint)Random.Shared.Next(1, int.MaxValue / 2);
        var signed = SignedPreKeyRecord.Generate(Identity, baseId, now);
        var kem = KemPreKeyRecord.Generate(Identity, baseId + 1, lastResort: true, now);
        PreKeys.Add(signed);
        PreKeys.Add(kem);
        await Server.Directory.UploadPreKeysAsync(
            new UploadPreKeysRequest { SignedPreKey = signed.ToWire(), LastResortKemPreKey = kem.ToWire() },
            cancellationToken: cancellationToken);
    }

    /// <summary>Starts a session with <paramref name="peer"/> from the bundle the directory hands out.</summary>
    internal async Task InitiateAsync(string peer, CancellationToken cancellationToken)
    {
        var fetched = await Server.Directory.FetchBundleAsync(new FetchBundleRequest { Name = peer }, cancellationToken: cancellationToken);
        var session = RatchetSession.Initiate(Identity, fetched.Bundle);
        lock (sessionsLock)
        {
            sessions[peer] = session;
        }
    }

    /// <summary>Encrypts for <paramref name="peer"/> (messages to one peer are encrypted one at a time).</summary>
    internal byte[] Encrypt(string peer, ReadOnlySpan<byte> plaintext)
    {
        var session = Session(peer) ?? throw new InvalidOperationException($"{Name} has no session with {peer}");
        lock (session)
        {
            return session.Encrypt(plaintext);
        }
    }

    /// <summary>
    /// Decrypts a body from <paramref name="sender"/>, accepting a PreKeyMessage that starts a new
    /// session. Throws <see cref="Protocol.ParleyProtocolException"/> on a replay or tampering.
    /// </summary>
    internal byte[] Decrypt(string sender, ByteString body)
    {
        var session = Session(sender);
        if (session is not null)
        {
            lock (session)
            {
                try
                {
                    return session.Decrypt(body.Span);
                }
                catch (Protocol.ParleyProtocolException e) when (e.Kind == Protocol.ProtocolErrorKind.NoSession)
                {
                    // A PreKeyMessage of a different PQXDH run: accepted below as a new session.
                }
            }
        }

        var message = RatchetSession.ParseMessage(body.Span);
        if (message.BodyCase != Protocol.Wire.CiphertextMessage.BodyOneofCase.PreKey)
        {
            throw new InvalidOperationException($"{Name} has no session with {sender}");
        }

        var accepted = RatchetSession.Accept(Identity, message.PreKey, PreKeys, out var plaintext);
        lock (sessionsLock)
        {
            sessions[sender] = accepted;
        }

        return plaintext;
    }

    /// <summary>
    /// Whether an envelope with this id was already decrypted: the server delivers at least once (an
    /// ack lost with a closed stream means a push again), and a client drops a repeat by its id
    /// (api.proto, Receive) before its ratchet would reject it as a replay.
    /// </summary>
    internal bool AlreadyReceived(ByteString id)
    {
        lock (received)
        {
            return received.Contains(id);
        }
    }

    internal void Received(ByteString id)
    {
        lock (received)
        {
            received.Add(id);
        }
    }

    private RatchetSession? Session(string peer)
    {
        lock (sessionsLock)
        {
            return sessions.GetValueOrDefault(peer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync();
        lock (sessionsLock)
        {
            foreach (var session in sessions.Values)
            {
                session.Dispose();
            }

            sessions.Clear();
        }

        Identity.Dispose();
    }
}
