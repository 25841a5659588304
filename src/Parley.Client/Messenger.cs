using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;
using Parley.Client.Profile;
using Parley.Client.Rendezvous;
using Parley.Protocol;
using Parley.Protocol.Certificates;
using Parley.Protocol.Identity;
using Parley.Protocol.Pake;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Client;

/// <summary>
/// What a UI drives: one user's profile and its connection to the server. Sending stores the
/// ciphertext (with the session state that made it) before the first attempt and retries with the
/// same id until the server acknowledges; receiving stores each message (deduplicated by id)
/// before acknowledging it. Every peer certificate is checked against the pinned CA and the
/// revocation list, and a changed identity key blocks the conversation until accepted.
/// </summary>
public sealed class Messenger : IAsyncDisposable
{
    /// <summary>One-time prekeys published at registration and per replenishment.</summary>
    public const int OneTimePreKeyBatch = 100;

    /// <summary>How long a receive waits, at its end, for the server to confirm the acks it sent.</summary>
    private static readonly TimeSpan AckDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly ProfileStore profile;
    private readonly PinnedCertificateAuthority ca;
    private readonly CertificateValidator validator;
    private ServerConnection? connection;
    private RevocationList? revocations;

    private Messenger(ProfileStore profile)
    {
        this.profile = profile;
        ca = new PinnedCertificateAuthority(profile.Info.CaCertificatePem);
        validator = new CertificateValidator(profile.Info.CaCertificatePem);
    }

    /// <summary>The local profile (contacts, history).</summary>
    public ProfileStore Profile => profile;

    /// <summary>This user's name.</summary>
    public string UserName => profile.Info.UserName;

    /// <summary>The server this profile is registered on.</summary>
    public Uri Server => new(profile.Info.ServerUri);

    /// <summary>Makes an identity, registers it, creates the profile and publishes prekeys.</summary>
    public static async Task<Messenger> RegisterAsync(string profileDirectory, string passphrase, string name, Uri server, string caCertificatePem, string? invite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!Protocol.Identity.UserName.TryNormalize(name, out var normalized))
        {
            throw new ClientException(ClientErrorKind.Refused, $"invalid user name \"{name}\": use 1-{Protocol.Identity.UserName.MaxLength} characters a-z, 0-9, '.', '_', '-', starting with a letter");
        }

        var identity = IdentityKeyPair.Generate();
        try
        {
            using var pinned = new PinnedCertificateAuthority(caCertificatePem);
            await using (var registration = ServerConnection.Open(server, pinned))
            {
                var response = await Call(() => registration.RegisterAsync(normalized, identity, invite, cancellationToken)).ConfigureAwait(false);
                var issued = new CertificateValidator(caCertificatePem).Validate(response.CertificatePem, null, DateTimeOffset.UtcNow);
                if (issued.UserName != normalized || !issued.IdentityKey.Span.SequenceEqual(identity.PublicKey.SigningKey))
                {
                    throw new ClientException(ClientErrorKind.UntrustedPeer, "the server issued a certificate for a different name or key");
                }
            }

            var created = ProfileStore.Create(profileDirectory, passphrase, new ProfileInfo(normalized, server.ToString(), caCertificatePem, DateTimeOffset.UtcNow), identity);
            var messenger = new Messenger(created);
            await messenger.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return messenger;
        }
        catch
        {
            identity.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing profile (wrong passphrase: <see cref="ProfileException"/>).</summary>
    public static Messenger Open(string profileDirectory, string passphrase) => new(ProfileStore.Open(profileDirectory, passphrase));

    /// <summary>Connects and authenticates (once), and tops up prekeys when the server says they run low.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            return;
        }

        var opened = ServerConnection.Open(Server, ca);
        try
        {
            await Call(() => opened.AuthenticateAsync(UserName, profile.Identity, cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            await opened.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        connection = opened;
        await ReplenishPreKeysAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads prekeys when the server reports the supply low (or none published yet).</summary>
    public async Task ReplenishPreKeysAsync(CancellationToken cancellationToken)
    {
        var server = RequireConnection();
        var status = await Call(() => server.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var needsSigned = profile.CurrentSignedPreKeyId is null;
        if (!status.Replenish && !needsSigned)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var signed = needsSigned ? SignedPreKeyRecord.Generate(profile.Identity, profile.NextPreKeyId(), now) : null;
        var lastResort = profile.CurrentLastResortKemPreKeyId is null ? KemPreKeyRecord.Generate(profile.Identity, profile.NextPreKeyId(), lastResort: true, now) : null;
        var oneTime = Enumerable.Range(0, OneTimePreKeyBatch).Select(_ => OneTimePreKeyRecord.Generate(profile.NextPreKeyId())).ToList();

        // Private halves first: a key the server hands out must already be here to answer it.
        profile.AddPreKeys(signed, lastResort, oneTime, []);
        var request = new UploadPreKeysRequest { SignedPreKey = signed?.ToWire(), LastResortKemPreKey = lastResort?.ToWire() };
        request.OneTimePreKeys.AddRange(oneTime.Select(k => k.ToWire()));
        await Call(() => server.Directory.UploadPreKeysAsync(request, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
    }

    /// <summary>
    /// Encrypts <paramref name="text"/> for <paramref name="peer"/>, stores it in the outbox and
    /// sends everything pending. Returns the message id (hex). If the server cannot be reached the
    /// message stays in the outbox and <see cref="ClientException"/> says so.
    /// </summary>
    public async Task<string> SendAsync(string peer, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = NormalizePeer(peer);
        if (name == UserName)
        {
            throw new ClientException(ClientErrorKind.UnknownPeer, "you cannot send a message to yourself");
        }

        ClientException? unreachable = null;
        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ClientException e) when (e.Kind == ClientErrorKind.ServerUnreachable && profile.LoadSession(name) is not null)
        {
            // With a session the message can be encrypted now and wait in the outbox.
            unreachable = e;
        }

        if (unreachable is null)
        {
            await EnsureSessionAsync(name, cancellationToken).ConfigureAwait(false);
        }

        using var session = RatchetSession.Deserialize(profile.LoadSession(name)!);
        if (unreachable is null)
        {
            // The session may predate a re-registration of the name: the certificate the CA holds
            // now (checked against the CRL) must still be the identity this session was made with.
            IdentityKey? certified = null;
            try
            {
                certified = await CertifiedIdentityAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (ClientException e) when (e.Kind == ClientErrorKind.ServerUnreachable)
            {
                // Reachable but unable to answer (its database restarting): as when it is down,
                // the message waits in the outbox, checked against the pinned key below.
                unreachable = e;
            }

            if (certified is not null && !certified.Equals(session.RemoteIdentity))
            {
                profile.RecordKeyChange(name, certified);
                throw KeyChanged(name);
            }
        }

        if (profile.GetTrust(name, session.RemoteIdentity) == IdentityTrust.Changed)
        {
            throw KeyChanged(name);
        }

        var ciphertext = session.Encrypt(Encoding.UTF8.GetBytes(text));
        var id = RandomNumberGenerator.GetBytes(OutgoingMessage.MessageIdSize);
        profile.EnqueueOutgoing(new OutgoingMessage(id, name, ciphertext, text, DateTimeOffset.UtcNow), name, session.Serialize());
        if (unreachable is not null)
        {
            throw Kept(unreachable);
        }

        try
        {
            await FlushOutboxAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ClientException e) when (e.Kind == ClientErrorKind.ServerUnreachable)
        {
            // Stored before the attempt: say so, as when the server was down from the start.
            throw Kept(e);
        }

        return Convert.ToHexStringLower(id);
    }

    /// <summary>Sends every message still in the outbox, each with its own id; returns how many the server acknowledged.</summary>
    public async Task<int> FlushOutboxAsync(CancellationToken cancellationToken)
    {
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var server = RequireConnection();
        var sent = 0;
        foreach (var message in profile.PendingOutgoing())
        {
            var response = await Call(() => server.Mailbox.SendAsync(
                new SendRequest { MessageId = ByteString.CopyFrom(message.MessageId), Recipient = message.Recipient, Body = ByteString.CopyFrom(message.Ciphertext) },
                cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
            profile.MarkSent(message.MessageId, DateTimeOffset.FromUnixTimeMilliseconds(response.ServerTimestampUnixMs));
            sent++;
        }

        return sent;
    }

    /// <summary>
    /// Receives what the server holds: reads the stream until the server says the stored backlog
    /// has been pushed (or nothing arrives for <paramref name="quiet"/>), or, with
    /// <paramref name="follow"/>, until cancelled. Each message is
    /// stored before it is acknowledged; <paramref name="onMessage"/> sees it after it is stored.
    /// </summary>
    public async Task ReceiveAsync(Action<ReceivedMessage> onMessage, TimeSpan quiet, bool follow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var server = RequireConnection();
        using var stream = server.Mailbox.Receive(cancellationToken: cancellationToken);
        var accepted = 0;
        try
        {
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (!follow)
                {
                    wait.CancelAfter(quiet);
                }

                bool more;
                try
                {
                    more = await StreamTransport.MoveNextAsync(stream.ResponseStream, wait.Token).ConfigureAwait(false);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && !cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (!more)
                {
                    break;
                }

                if (stream.ResponseStream.Current.CaughtUp)
                {
                    if (!follow)
                    {
                        break;
                    }

                    continue;
                }

                var envelope = stream.ResponseStream.Current.Envelope;
                if (envelope is null)
                {
                    continue;
                }

                var received = await HandleEnvelopeAsync(envelope, cancellationToken).ConfigureAwait(false);
                await StreamTransport.WriteAsync(stream.RequestStream, new ReceiveRequest { Ack = { envelope.MessageId } }, cancellationToken).ConfigureAwait(false);
                if (received is not null)
                {
                    accepted++;
                    onMessage(received);
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // gRPC reports the caller's own cancellation as a Cancelled status: the caller asked to
            // stop (the chat's /quit, Ctrl+C on inbox --follow), which is not an error to show.
            throw new OperationCanceledException("cancelled", e, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw Translate(e);
        }
        finally
        {
            try
            {
                await StreamTransport.CompleteAsync(stream.RequestStream).ConfigureAwait(false);

                // Wait for the server to end the call: it ends once it has applied the acks written
                // above. Disposing the call before then cancels it on the server, and the last
                // acknowledged envelopes stay stored, to be sent (and skipped) again next time.
                using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                drain.CancelAfter(AckDrainTimeout);
                while (await StreamTransport.MoveNextAsync(stream.ResponseStream, drain.Token).ConfigureAwait(false))
                {
                    // Envelopes pushed meanwhile are not acknowledged: they stay stored for the next receive.
                }
            }
            catch (Exception e) when (StreamTransport.MeansCallIsOver(e))
            {
                // The stream or the server is already gone; acks already written are what counts.
            }
        }

        if (accepted > 0)
        {
            await ReplenishPreKeysAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The 60-digit safety number with <paramref name="peer"/>, from the pinned keys; null before first contact.</summary>
    public string? SafetyNumberWith(string peer)
    {
        var name = NormalizePeer(peer);
        var pinned = profile.GetPinnedIdentity(name);
        return pinned is null ? null : SafetyNumber.Compute(UserName, profile.Identity.PublicKey, name, pinned);
    }

    /// <summary>Fetches <paramref name="peer"/>'s certificate, checks it and pins the key on first use.</summary>
    public async Task<IdentityKey> LookUpAsync(string peer, CancellationToken cancellationToken)
    {
        var name = NormalizePeer(peer);
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var identity = await CertifiedIdentityAsync(name, cancellationToken).ConfigureAwait(false);
        PinOrRefuse(name, identity);
        return identity;
    }

    /// <summary>
    /// Pins <paramref name="identity"/> for <paramref name="name"/> on first contact; a key other
    /// than the pinned one is recorded as a key change and refused until the user accepts it.
    /// </summary>
    private void PinOrRefuse(string name, IdentityKey identity)
    {
        switch (profile.GetTrust(name, identity))
        {
            case IdentityTrust.FirstUse:
                profile.AddContact(name);
                profile.Pin(name, identity);
                break;
            case IdentityTrust.Changed:
                profile.RecordKeyChange(name, identity);
                throw KeyChanged(name);
        }
    }

    /// <summary>This user's certificate (PEM), as the server holds it.</summary>
    public async Task<string> OwnCertificateAsync(CancellationToken cancellationToken)
    {
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var response = await Call(() => RequireConnection().Accounts.GetCertificateAsync(new GetCertificateRequest { Name = UserName }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return response.CertificatePem;
    }

    /// <summary>Opens an invitation (`parley invite`): the server allocates a nameplate and the code is made here.</summary>
    public async Task<Invitation> InviteAsync(CancellationToken cancellationToken)
    {
        var certificate = await OwnCertificateAsync(cancellationToken).ConfigureAwait(false);
        var stream = await RendezvousCallAsync(() => RendezvousStream.OpenAsync(RequireConnection(), cancellationToken)).ConfigureAwait(false);
        return new Invitation(this, stream, certificate);
    }

    /// <summary>
    /// Joins an invitation with its code (`parley join CODE`): runs the PAKE and the identity
    /// exchange and stores the inviter as a verified contact.
    /// </summary>
    /// <exception cref="ParleyProtocolException">Malformed: the code does not parse.</exception>
    /// <exception cref="ClientException">CodeMismatch, CodeUnknown, CodeExpired, CodeTaken, PeerLeft, UntrustedPeer or KeyChanged.</exception>
    public async Task<VerifiedPeer> JoinAsync(string code, CancellationToken cancellationToken)
    {
        var parsed = InviteCode.Parse(code);
        var certificate = await OwnCertificateAsync(cancellationToken).ConfigureAwait(false);
        await using var stream = await RendezvousCallAsync(() => RendezvousStream.ClaimAsync(RequireConnection(), parsed.Nameplate, cancellationToken)).ConfigureAwait(false);
        return await CompleteInvitationAsync(stream, parsed, inviter: false, certificate, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a code chat (`parley chat --new-code`); show its code, then connect.</summary>
    public async Task<CodeChat> StartCodeChatAsync(CancellationToken cancellationToken)
    {
        var certificate = await OwnCertificateAsync(cancellationToken).ConfigureAwait(false);
        var stream = await RendezvousCallAsync(() => RendezvousStream.OpenAsync(RequireConnection(), cancellationToken)).ConfigureAwait(false);
        return new CodeChat(this, stream, InviteCode.Generate(stream.Nameplate), inviter: true, certificate);
    }

    /// <summary>Joins a code chat (`parley chat --code CODE`); then connect.</summary>
    public async Task<CodeChat> JoinCodeChatAsync(string code, CancellationToken cancellationToken)
    {
        var parsed = InviteCode.Parse(code);
        var certificate = await OwnCertificateAsync(cancellationToken).ConfigureAwait(false);
        var stream = await RendezvousCallAsync(() => RendezvousStream.ClaimAsync(RequireConnection(), parsed.Nameplate, cancellationToken)).ConfigureAwait(false);
        return new CodeChat(this, stream, parsed, inviter: false, certificate);
    }

    /// <summary>The PAKE, the identity exchange and the checks, then the peer stored as a verified contact.</summary>
    internal async Task<VerifiedPeer> CompleteInvitationAsync(RendezvousStream stream, InviteCode code, bool inviter, string certificatePem, CancellationToken cancellationToken)
    {
        var outcome = await RendezvousCallAsync(() => CodeHandshake.RunAsync(stream, code, inviter, profile.Identity, certificatePem, ratchetKey: null, cancellationToken)).ConfigureAwait(false);
        using var channel = outcome.Channel;
        var (name, identity) = await CheckCodePeerAsync(outcome, cancellationToken).ConfigureAwait(false);
        PinOrRefuse(name, identity);
        if (!profile.MarkVerified(name, identity))
        {
            throw KeyChanged(name);
        }

        await stream.CloseAsync(cancellationToken).ConfigureAwait(false);
        return new VerifiedPeer(name, SafetyNumberFor(name, identity));
    }

    /// <summary>
    /// Checks what the other side of a code sent, as <see cref="SendAsync"/> checks a peer: its
    /// certificate against the pinned CA and the current CRL, its identity key against the
    /// certificate, and its signature over this exchange's channel binding.
    /// </summary>
    internal async Task<(string Name, IdentityKey Identity)> CheckCodePeerAsync(CodeHandshake.Outcome outcome, CancellationToken cancellationToken)
    {
        IdentityKey identity;
        try
        {
            identity = IdentityKey.FromWire(outcome.Peer.Identity ?? throw new ParleyProtocolException(ProtocolErrorKind.Malformed, "no identity key"));
        }
        catch (ParleyProtocolException e)
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"the other side's identity key is not acceptable: {e.Message}", e);
        }

        var certificate = await ValidateCertificateAsync("the other side", outcome.Peer.CertificatePem, cancellationToken).ConfigureAwait(false);
        if (!certificate.IdentityKey.Span.SequenceEqual(identity.SigningKey))
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"the certificate of {certificate.UserName} does not match the identity key the other side sent");
        }

        if (!outcome.Channel.VerifyPeerBinding(identity, outcome.Peer.BindingSignature.Span))
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"the other side did not prove it holds the identity key of {certificate.UserName}");
        }

        if (certificate.UserName == UserName)
        {
            throw new ClientException(ClientErrorKind.UnknownPeer, "the other side of this code is you");
        }

        return (certificate.UserName, identity);
    }

    internal string SafetyNumberFor(string name, IdentityKey identity) => SafetyNumber.Compute(UserName, profile.Identity.PublicKey, name, identity);

    /// <summary>Runs a rendezvous step; a server status that escapes becomes one <see cref="ClientException"/>.</summary>
    internal static async Task<T> RendezvousCallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw RendezvousStream.Translate(e);
        }
    }

    /// <summary>As <see cref="RendezvousCallAsync{T}(Func{Task{T}})"/>, for steps without a result.</summary>
    internal static async Task RendezvousCallAsync(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw RendezvousStream.Translate(e);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        ca.Dispose();
        profile.Dispose();
    }

    private async Task EnsureSessionAsync(string peer, CancellationToken cancellationToken)
    {
        if (profile.LoadSession(peer) is not null)
        {
            return;
        }

        var server = RequireConnection();
        var fetched = await Call(() => server.Directory.FetchBundleAsync(new FetchBundleRequest { Name = peer }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var identity = IdentityKey.FromWire(fetched.Bundle.Identity);
        await CheckCertificateAsync(peer, fetched.CertificatePem, identity, cancellationToken).ConfigureAwait(false);
        var trust = profile.GetTrust(peer, identity);
        if (trust == IdentityTrust.Changed)
        {
            profile.RecordKeyChange(peer, identity);
            throw KeyChanged(peer);
        }

        using var session = RatchetSession.Initiate(profile.Identity, fetched.Bundle);
        if (trust == IdentityTrust.FirstUse)
        {
            profile.AddContact(peer);
            profile.Pin(peer, identity);
        }

        profile.StoreSession(peer, session.Serialize());
    }

    private async Task<ReceivedMessage?> HandleEnvelopeAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var sender = envelope.Sender;
        var id = envelope.MessageId.ToByteArray();
        if (profile.HasIncoming(sender, id))
        {
            return null;
        }

        var serverTime = DateTimeOffset.FromUnixTimeMilliseconds(envelope.ServerTimestampUnixMs);
        Decrypted? decrypted = null;
        MessageStatus status;
        var consumed = new DeferredPreKeyConsumption(profile);
        try
        {
            decrypted = await DecryptAsync(sender, envelope.Body.Span.ToArray(), consumed, cancellationToken).ConfigureAwait(false);
            status = MessageStatus.Delivered;
        }
        catch (ParleyProtocolException e)
        {
            status = e.Kind switch
            {
                ProtocolErrorKind.Tampered => MessageStatus.Tampered,
                ProtocolErrorKind.Replayed => MessageStatus.Replayed,
                ProtocolErrorKind.UntrustedIdentity or ProtocolErrorKind.UntrustedCertificate or ProtocolErrorKind.CertificateRevoked or ProtocolErrorKind.CertificateExpired => MessageStatus.UntrustedIdentity,
                _ => MessageStatus.Undecryptable,
            };
        }

        var message = new IncomingMessage(id, sender, decrypted?.Text, status, serverTime, DateTimeOffset.UtcNow);
        var stored = decrypted is null
            ? profile.StoreIncoming(message, null, null)
            : profile.StoreIncoming(message, sender, decrypted.State, decrypted.Session, decrypted.Gaps);
        if (!stored)
        {
            return null;
        }

        consumed.Commit();
        var verified = profile.ListContacts().FirstOrDefault(c => c.Name == sender)?.Verified ?? false;
        return new ReceivedMessage(sender, decrypted?.Text, status, serverTime, verified && status == MessageStatus.Delivered, decrypted?.Gaps.OpenedCount ?? 0);
    }

    /// <summary>
    /// Decrypts a message from <paramref name="sender"/>; returns the text, the session state to
    /// store with it, and what the ratchet counters said about messages that did not arrive.
    /// </summary>
    private async Task<Decrypted> DecryptAsync(string sender, byte[] body, DeferredPreKeyConsumption preKeys, CancellationToken cancellationToken)
    {
        var message = RatchetSession.ParseMessage(body);
        var stored = profile.LoadSession(sender);
        using var existing = stored is null ? null : RatchetSession.Deserialize(stored);
        if (message.BodyCase == CiphertextMessage.BodyOneofCase.PreKey && (existing is null || !existing.Matches(message.PreKey)))
        {
            var claimed = IdentityKey.FromWire(message.PreKey.Identity);
            var certified = await CertifiedIdentityAsync(sender, cancellationToken).ConfigureAwait(false);
            if (!certified.Equals(claimed))
            {
                throw new ParleyProtocolException(ProtocolErrorKind.UntrustedIdentity, $"the message claims an identity that is not {sender}'s certified key");
            }

            var trust = profile.GetTrust(sender, claimed);
            if (trust == IdentityTrust.Changed)
            {
                profile.RecordKeyChange(sender, claimed);
                throw new ParleyProtocolException(ProtocolErrorKind.UntrustedIdentity, $"the identity key of {sender} has changed");
            }

            using var accepted = RatchetSession.Accept(profile.Identity, message.PreKey, preKeys, claimed, out var plaintext, out var acceptedGaps);
            if (trust == IdentityTrust.FirstUse)
            {
                profile.AddContact(sender);
                profile.Pin(sender, claimed);
            }

            return new Decrypted(Encoding.UTF8.GetString(plaintext), accepted.Serialize(), accepted.BaseKey.ToArray(), acceptedGaps);
        }

        if (existing is null)
        {
            throw new ParleyProtocolException(ProtocolErrorKind.NoSession, $"no session with {sender}");
        }

        if (profile.GetTrust(sender, existing.RemoteIdentity) == IdentityTrust.Changed)
        {
            throw new ParleyProtocolException(ProtocolErrorKind.UntrustedIdentity, $"the identity key of {sender} has changed");
        }

        var decrypted = existing.Decrypt(message, out var gaps);
        return new Decrypted(Encoding.UTF8.GetString(decrypted), existing.Serialize(), existing.BaseKey.ToArray(), gaps);
    }

    /// <summary>The identity the CA certified for <paramref name="peer"/>, checked against the pinned root and the current CRL.</summary>
    private async Task<IdentityKey> CertifiedIdentityAsync(string peer, CancellationToken cancellationToken)
    {
        var server = RequireConnection();
        var response = await Call(() => server.Accounts.GetCertificateAsync(new GetCertificateRequest { Name = peer }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var identity = IdentityKey.FromWire(response.Identity);
        await CheckCertificateAsync(peer, response.CertificatePem, identity, cancellationToken).ConfigureAwait(false);
        return identity;
    }

    private async Task CheckCertificateAsync(string peer, string certificatePem, IdentityKey identity, CancellationToken cancellationToken)
    {
        var certificate = await ValidateCertificateAsync(peer, certificatePem, cancellationToken).ConfigureAwait(false);
        if (certificate.UserName != peer || !certificate.IdentityKey.Span.SequenceEqual(identity.SigningKey))
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"the server's certificate for {peer} does not match the keys it served");
        }
    }

    /// <summary>The certificate checked against the pinned root and the current CRL.</summary>
    private async Task<ValidatedCertificate> ValidateCertificateAsync(string peer, string certificatePem, CancellationToken cancellationToken)
    {
        var crl = await RevocationsAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return validator.Validate(certificatePem, crl, DateTimeOffset.UtcNow);
        }
        catch (ParleyProtocolException e)
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"{peer}'s certificate is not acceptable: {e.Message}", e);
        }
    }

    private async Task<RevocationList> RevocationsAsync(CancellationToken cancellationToken)
    {
        if (revocations is not null && revocations.NextUpdate > DateTimeOffset.UtcNow)
        {
            return revocations;
        }

        var response = await Call(() => RequireConnection().Accounts.GetRevocationListAsync(new GetRevocationListRequest(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        try
        {
            revocations = RevocationList.Parse(response.CrlPem, profile.Info.CaCertificatePem);
        }
        catch (ParleyProtocolException e)
        {
            throw new ClientException(ClientErrorKind.UntrustedPeer, $"the server's revocation list is not acceptable: {e.Message}", e);
        }

        return revocations;
    }

    private ServerConnection RequireConnection() => connection ?? throw new InvalidOperationException("not connected");

    private static string NormalizePeer(string peer) =>
        Protocol.Identity.UserName.TryNormalize(peer, out var name) ? name : throw new ClientException(ClientErrorKind.UnknownPeer, $"\"{peer}\" is not a valid user name");

    private static ClientException Kept(ClientException unreachable) => new(
        ClientErrorKind.ServerUnreachable,
        $"{unreachable.Message}; the message is kept and will be sent by the next command that reaches the server",
        unreachable);

    private static ClientException KeyChanged(string peer) => new(
        ClientErrorKind.KeyChanged,
        $"WARNING: the identity key of {peer} has changed. Sending is blocked until you check it with them and run `parley contacts accept-key {peer}`.");

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }
    }

    private static async Task Call(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }
    }

    internal static ClientException Translate(RpcException e)
    {
        var unreachable = e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
            || (e.StatusCode == StatusCode.Internal && e.Status.DebugException is HttpRequestException or IOException);
        if (unreachable)
        {
            // UNAVAILABLE without a transport error is the server's own answer (its storage is down or full).
            var what = e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is null ? "the server is unavailable" : "cannot reach the server";
            return new ClientException(ClientErrorKind.ServerUnreachable, $"{what}: {e.Status.Detail}", e);
        }

        return e.StatusCode == StatusCode.NotFound
            ? new ClientException(ClientErrorKind.UnknownPeer, e.Status.Detail, e)
            : new ClientException(ClientErrorKind.Refused, $"the server refused: {e.Status.Detail}", e);
    }

    /// <summary>A decrypted message: its text, the session state to store with it, the session's base key and its gaps.</summary>
    private sealed record Decrypted(string Text, byte[] State, byte[] Session, MessageGaps Gaps);

    /// <summary>Holds back prekey deletion until the message that used them is stored.</summary>
    private sealed class DeferredPreKeyConsumption(ProfileStore store) : IPreKeyStore
    {
        private (uint? OneTime, uint Kem)? pending;

        public SignedPreKeyRecord? GetSignedPreKey(uint id) => store.GetSignedPreKey(id);

        public OneTimePreKeyRecord? GetOneTimePreKey(uint id) => store.GetOneTimePreKey(id);

        public KemPreKeyRecord? GetKemPreKey(uint id) => store.GetKemPreKey(id);

        public void ConsumePreKeys(uint? oneTimePreKeyId, uint kemPreKeyId) => pending = (oneTimePreKeyId, kemPreKeyId);

        public void Commit()
        {
            if (pending is { } used)
            {
                store.ConsumePreKeys(used.OneTime, used.Kem);
            }
        }
    }
}
