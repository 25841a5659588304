using Google.Protobuf;
using Parley.Api;
using Parley.Protocol;
using Parley.Protocol.Identity;
using Parley.Protocol.Pake;
using Parley.Protocol.PreKeys;

namespace Parley.Client.Rendezvous;

/// <summary>
/// SPAKE2 with key confirmation over a rendezvous (RFC 9382 §3.1 order: pA and pB, then cA checked
/// by B, then cB checked by A), then each side's <see cref="InviteIdentity"/> inside the
/// <see cref="PakeChannel"/> (docs/protocol.md §12.2–12.4). A wrong confirmation is reported to
/// the server, which burns the nameplate and tells the other side; both sides then fail with
/// <see cref="ClientErrorKind.CodeMismatch"/>.
/// </summary>
internal static class CodeHandshake
{
    /// <summary>What the handshake yields: the open channel and what the peer claims to be (not yet checked).</summary>
    internal sealed record Outcome(PakeChannel Channel, InviteIdentity Peer);

    internal static async Task<Outcome> RunAsync(
        RendezvousStream stream,
        InviteCode code,
        bool inviter,
        IdentityKeyPair identity,
        string certificatePem,
        SignedPreKeyRecord? ratchetKey,
        CancellationToken cancellationToken)
    {
        await stream.WaitForPeerAsync(cancellationToken).ConfigureAwait(false);

        // The roles are fixed by the rendezvous (A opened it); who is who is proved inside the
        // channel, by each side's signature over the binding, so the SPAKE2 identities are empty.
        using var party = inviter ? Spake2Party.StartAsA(code, [], []) : Spake2Party.StartAsB(code, [], []);
        await stream.SendAsync(party.Message, cancellationToken).ConfigureAwait(false);
        var peerMessage = await stream.ReceiveRequiredAsync(cancellationToken).ConfigureAwait(false);
        var confirmation = await StepAsync(stream, () => party.Finish(peerMessage), cancellationToken).ConfigureAwait(false);
        if (inviter)
        {
            await stream.SendAsync(confirmation, cancellationToken).ConfigureAwait(false);
            var peerConfirmation = await stream.ReceiveRequiredAsync(cancellationToken).ConfigureAwait(false);
            await StepAsync(stream, () => party.VerifyPeerConfirmation(peerConfirmation).Length, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var peerConfirmation = await stream.ReceiveRequiredAsync(cancellationToken).ConfigureAwait(false);
            await StepAsync(stream, () => party.VerifyPeerConfirmation(peerConfirmation).Length, cancellationToken).ConfigureAwait(false);
            await stream.SendAsync(confirmation, cancellationToken).ConfigureAwait(false);
        }

        var channel = PakeChannel.Establish(party);
        try
        {
            var own = new InviteIdentity
            {
                CertificatePem = certificatePem,
                Identity = identity.PublicKey.ToWire(),
                BindingSignature = ByteString.CopyFrom(channel.SignBinding(identity)),
                RatchetKey = ratchetKey?.ToWire(),
            };
            await stream.SendAsync(channel.Seal(own.ToByteArray()), cancellationToken).ConfigureAwait(false);
            var record = await stream.ReceiveRequiredAsync(cancellationToken).ConfigureAwait(false);
            InviteIdentity peer;
            try
            {
                peer = InviteIdentity.Parser.ParseFrom(channel.Open(record));
            }
            catch (Exception e) when (e is ParleyProtocolException or InvalidProtocolBufferException)
            {
                throw new ClientException(ClientErrorKind.UntrustedPeer, $"the other side's identity did not arrive intact: {e.Message}", e);
            }

            return new Outcome(channel, peer);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    /// <summary>Runs one SPAKE2 step; any failure of it ends the attempt on both sides (reported as a mismatch).</summary>
    private static async Task<T> StepAsync<T>(RendezvousStream stream, Func<T> step, CancellationToken cancellationToken)
    {
        try
        {
            return step();
        }
        catch (ParleyProtocolException e)
        {
            await stream.ReportMismatchAsync(cancellationToken).ConfigureAwait(false);
            throw e.Kind == ProtocolErrorKind.CodeMismatch
                ? RendezvousStream.CodeMismatch()
                : new ClientException(ClientErrorKind.CodeMismatch, $"code mismatch — nothing was exchanged (the other side's PAKE message was invalid: {e.Message})", e);
        }
    }
}
