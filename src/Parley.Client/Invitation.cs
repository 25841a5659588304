using Parley.Client.Rendezvous;
using Parley.Protocol.Pake;

namespace Parley.Client;

/// <summary>
/// An invitation this user opened (`parley invite`): show <see cref="Code"/> to the other person,
/// then <see cref="CompleteAsync"/> waits for them, runs the PAKE and the identity exchange, and
/// stores them as a verified contact (docs/protocol.md §12).
/// </summary>
public sealed class Invitation : IAsyncDisposable
{
    private readonly Messenger messenger;
    private readonly RendezvousStream stream;
    private readonly string certificatePem;

    internal Invitation(Messenger messenger, RendezvousStream stream, string certificatePem)
    {
        this.messenger = messenger;
        this.stream = stream;
        this.certificatePem = certificatePem;
        Code = InviteCode.Generate(stream.Nameplate);
    }

    /// <summary>The code to pass on. A short-lived secret: show it, never log it.</summary>
    public InviteCode Code { get; }

    /// <summary>When the server forgets the nameplate if nobody has joined.</summary>
    public DateTimeOffset? Expires => stream.Expires;

    /// <summary>Waits for the other side and completes the exchange; the peer is then a verified contact.</summary>
    /// <exception cref="ClientException">CodeMismatch, CodeExpired, PeerLeft, UntrustedPeer or KeyChanged.</exception>
    public Task<VerifiedPeer> CompleteAsync(CancellationToken cancellationToken) =>
        messenger.CompleteInvitationAsync(stream, Code, inviter: true, certificatePem, cancellationToken);

    /// <summary>Withdraws the invitation if it is still open.</summary>
    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
