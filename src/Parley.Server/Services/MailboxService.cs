using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Server.Delivery;
using Parley.Server.Hosting;
using Parley.Server.Security;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>
/// Store-and-forward. Send commits before it answers; Receive pushes what is stored and deletes
/// each envelope only when the client acknowledges it, so a crash anywhere redelivers rather than
/// loses, and the client's de-duplication by id hides the repeat.
/// </summary>
internal sealed partial class MailboxService(
    ServerOptions options,
    IServerStore store,
    Caller caller,
    RateLimits limits,
    MailboxSignals signals,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<MailboxService> logger) : Mailbox.MailboxBase
{
    internal const int MessageIdSize = 16;

    /// <summary>Envelopes sent on a stream without an ack before the stream waits for acks.</summary>
    internal const int MaxUnacknowledged = 256;

    /// <summary>Safety net: a stream re-reads its mailbox this often even without a wake-up.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    public override async Task<SendResponse> Send(SendRequest request, ServerCallContext context)
    {
        var sender = caller.Require(context);
        limits.Send(sender);
        if (request.MessageId.Length != MessageIdSize)
        {
            throw RpcErrors.InvalidArgument($"message_id must be {MessageIdSize} bytes");
        }

        if (request.Body.Length > options.MaxMessageBytes)
        {
            throw RpcErrors.ResourceExhausted($"message of {request.Body.Length} bytes is over the limit of {options.MaxMessageBytes}");
        }

        if (request.Body.IsEmpty)
        {
            throw RpcErrors.InvalidArgument("message body is empty");
        }

        var recipient = await AccountsService.FindUserAsync(store, request.Recipient, context.CancellationToken).ConfigureAwait(false);
        var messageId = request.MessageId.ToByteArray();
        if (recipient.RevokedAt is not null)
        {
            if (!await IsStoredAsync(sender, messageId, context.CancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.FailedPrecondition($"the certificate of \"{recipient.Name}\" is revoked");
            }

            return Duplicate();
        }

        if (await store.Mailbox.CountQueuedAsync(recipient.Name, context.CancellationToken).ConfigureAwait(false) >= options.MaxQueuedPerUser)
        {
            if (!await IsStoredAsync(sender, messageId, context.CancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.ResourceExhausted($"the mailbox of \"{recipient.Name}\" is full; retry later");
            }

            return Duplicate();
        }

        var started = Stopwatch.GetTimestamp();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var stored = await store.Mailbox.EnqueueAsync(
            new StoredEnvelope(messageId, sender, recipient.Name, request.Body.ToByteArray(), now),
            context.CancellationToken).ConfigureAwait(false);
        ServerMetrics.SendCommitSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (stored)
        {
            ServerMetrics.MessagesAccepted.Inc();
            signals.Notify(recipient.Name);
        }
        else
        {
            ServerMetrics.MessagesDuplicate.Inc();
        }

        return new SendResponse { ServerTimestampUnixMs = now, Duplicate = !stored };
    }

    public override async Task Receive(IAsyncStreamReader<ReceiveRequest> requestStream, IServerStreamWriter<ReceiveResponse> responseStream, ServerCallContext context)
    {
        var user = caller.Require(context);
        using var listener = signals.Listen(user);

        // Checked again once listening: a revocation that removed the token before this point is
        // seen here, and one after it disconnects the listener.
        caller.Require(context);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping, listener.Disconnected);
        var cancellationToken = stopping.Token;
        var inFlight = new HashSet<string>(StringComparer.Ordinal);
        var inFlightLock = new Lock();
        ServerMetrics.ReceiveStreams.Inc();
        LogStreamOpened(logger, user);
        var acks = ReadAcksAsync(user, requestStream, listener, inFlight, inFlightLock, cancellationToken);
        try
        {
            long after = 0;
            var caughtUp = false;
            while (!cancellationToken.IsCancellationRequested && !acks.IsCompleted)
            {
                int room;
                lock (inFlightLock)
                {
                    room = MaxUnacknowledged - inFlight.Count;
                }

                if (room > 0)
                {
                    var batch = await store.Mailbox.PeekAsync(user, after, room, cancellationToken).ConfigureAwait(false);
                    foreach (var envelope in batch)
                    {
                        lock (inFlightLock)
                        {
                            inFlight.Add(Convert.ToBase64String(envelope.MessageId));
                        }

                        await WriteAsync(responseStream, envelope, options.ReceiveWriteTimeout, cancellationToken).ConfigureAwait(false);
                        after = envelope.Sequence;
                    }

                    if (batch.Count == room)
                    {
                        continue;
                    }

                    if (!caughtUp)
                    {
                        caughtUp = true;
                        await WriteAsync(responseStream, new ReceiveResponse { CaughtUp = true }, options.ReceiveWriteTimeout, cancellationToken).ConfigureAwait(false);
                    }
                }

                // Also wake when the client completes its side (its last acks are applied then), so
                // that the call ends at once, not at the next poll; a client waits for that end.
                await Task.WhenAny(listener.WaitAsync(PollInterval, cancellationToken), acks).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left or the server is stopping: unacknowledged envelopes stay stored.
        }
        catch (TimeoutException)
        {
            LogSlowReader(logger, user);
        }
        finally
        {
            ServerMetrics.ReceiveStreams.Dec();
            await stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                await acks.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or RpcException or InvalidOperationException)
            {
                // The ack reader ends with the stream; its failure is the stream's end, not an error.
            }

            LogStreamClosed(logger, user);
        }

        if (listener.Disconnected.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw RpcErrors.PermissionDenied($"the certificate of \"{user}\" was revoked; this session is over");
        }
    }

    /// <summary>
    /// Whether this send is a retry of a message already stored (its ack was lost): checked only
    /// before refusing, so that a retry is acknowledged as a duplicate even once the recipient's
    /// mailbox has filled up or their certificate was revoked, as it would have been before.
    /// </summary>
    private Task<bool> IsStoredAsync(string sender, byte[] messageId, CancellationToken cancellationToken) =>
        store.Mailbox.ContainsAsync(sender, messageId, cancellationToken);

    private SendResponse Duplicate()
    {
        ServerMetrics.MessagesDuplicate.Inc();
        return new SendResponse { ServerTimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(), Duplicate = true };
    }

    private async Task ReadAcksAsync(string user, IAsyncStreamReader<ReceiveRequest> requests, MailboxSignals.Listener listener, HashSet<string> inFlight, Lock inFlightLock, CancellationToken cancellationToken)
    {
        await foreach (var request in requests.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (request.Ack.Count == 0)
            {
                continue;
            }

            var ids = request.Ack.Where(id => id.Length == MessageIdSize).Select(id => id.ToByteArray()).ToList();
            var deleted = await store.Mailbox.AcknowledgeAsync(user, ids, cancellationToken).ConfigureAwait(false);
            ServerMetrics.MessagesDelivered.Inc(deleted);
            lock (inFlightLock)
            {
                foreach (var id in ids)
                {
                    inFlight.Remove(Convert.ToBase64String(id));
                }
            }

            listener.Signal();
        }
    }

    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, StoredEnvelope envelope, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var response = new ReceiveResponse
        {
            Envelope = new Envelope
            {
                MessageId = UnsafeByteOperations.UnsafeWrap(envelope.MessageId),
                Sender = envelope.Sender,
                Body = UnsafeByteOperations.UnsafeWrap(envelope.Body),
                ServerTimestampUnixMs = envelope.ServerTimestampMs,
            },
        };
        await WriteAsync(stream, response, timeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, ReceiveResponse response, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await stream.WriteAsync(response, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("client stopped reading", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream opened for {User}")]
    private static partial void LogStreamOpened(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream closed for {User}")]
    private static partial void LogStreamClosed(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "disconnecting {User}: the client stopped reading its stream")]
    private static partial void LogSlowReader(ILogger logger, string user);
}
