using System.Security.Cryptography;
using System.Text;
using Parley.Client.Rendezvous;
using Parley.Protocol.Pake;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;

namespace Parley.Client;

/// <summary>
/// A two-person chat over an invite code, without contacts (`parley chat --new-code` and
/// `--code`): after the PAKE and the identity exchange, a Double Ratchet started from a secret
/// derived from the PAKE key carries every line, relayed by the server over the same rendezvous
/// and never stored (docs/protocol.md §12.5). Nothing is written to the profile.
/// </summary>
public sealed class CodeChat : IAsyncDisposable
{
    private readonly Messenger messenger;
    private readonly RendezvousStream stream;
    private readonly string certificatePem;
    private readonly bool inviter;
    private readonly Lock gate = new();
    private RatchetSession? session;

    internal CodeChat(Messenger messenger, RendezvousStream stream, InviteCode code, bool inviter, string certificatePem)
    {
        this.messenger = messenger;
        this.stream = stream;
        this.inviter = inviter;
        this.certificatePem = certificatePem;
        Code = code;
    }

    /// <summary>The code (made here for <c>--new-code</c>, given for <c>--code</c>).</summary>
    public InviteCode Code { get; }

    /// <summary>The other person, once connected.</summary>
    public VerifiedPeer? Peer { get; private set; }

    /// <summary>Waits for the other side, runs the PAKE, checks its identity and starts the ratchet.</summary>
    public async Task<VerifiedPeer> ConnectAsync(CancellationToken cancellationToken)
    {
        var identity = messenger.Profile.Identity;
        var ratchetKey = inviter ? null : SignedPreKeyRecord.Generate(identity, 1, DateTimeOffset.UtcNow);
        var outcome = await Messenger.RendezvousCallAsync(() => CodeHandshake.RunAsync(stream, Code, inviter, identity, certificatePem, ratchetKey, cancellationToken)).ConfigureAwait(false);
        using var channel = outcome.Channel;
        var (name, peerIdentity) = await messenger.CheckCodePeerAsync(outcome, cancellationToken).ConfigureAwait(false);
        var secret = channel.DeriveRatchetSecret();
        try
        {
            if (inviter)
            {
                if (outcome.Peer.RatchetKey is null)
                {
                    throw new ClientException(ClientErrorKind.UntrustedPeer, "the other side sent no ratchet key for the chat");
                }

                session = RatchetSession.InitiateWithSharedSecret(identity, peerIdentity, secret, outcome.Peer.RatchetKey);

                // The responder cannot send before its first ratchet step: this empty message gives it one.
                await Messenger.RendezvousCallAsync(() => stream.SendAsync(session.Encrypt([]), cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                session = RatchetSession.AcceptWithSharedSecret(identity, peerIdentity, secret, ratchetKey!);
                var first = await Messenger.RendezvousCallAsync(() => stream.ReceiveRequiredAsync(cancellationToken)).ConfigureAwait(false);
                if (session.Decrypt(first.AsSpan()).Length != 0)
                {
                    throw new ClientException(ClientErrorKind.UntrustedPeer, "the chat did not start as the protocol says");
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        Peer = new VerifiedPeer(name, messenger.SafetyNumberFor(name, peerIdentity));
        return Peer;
    }

    /// <summary>Encrypts and sends one line.</summary>
    public async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] frame;
        lock (gate)
        {
            frame = Session.Encrypt(Encoding.UTF8.GetBytes(text));
        }

        await Messenger.RendezvousCallAsync(() => stream.SendAsync(frame, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// The next line from the peer; null once the peer has ended the chat. A frame that fails to
    /// decrypt throws <see cref="Protocol.ParleyProtocolException"/> (tampered, replayed) and the
    /// chat goes on.
    /// </summary>
    public async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var frame = await Messenger.RendezvousCallAsync(() => stream.ReceiveAsync(cancellationToken)).ConfigureAwait(false);
        if (frame is null)
        {
            return null;
        }

        lock (gate)
        {
            return Encoding.UTF8.GetString(Session.Decrypt(frame.AsSpan()));
        }
    }

    /// <summary>
    /// Ends this side of the chat normally: the peer sees it end, and this side's
    /// <see cref="ReceiveAsync"/> returns null once the server has closed the call.
    /// </summary>
    public Task CloseAsync() => stream.CompleteRequestsAsync();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync().ConfigureAwait(false);
        session?.Dispose();
    }

    private RatchetSession Session => session ?? throw new InvalidOperationException("connect first");
}
