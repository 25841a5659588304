using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Server.Cluster;
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
    ClusterLink cluster,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<MailboxService> logger) : Mailbox.MailboxBase
{
    internal const int MessageIdSize = 16;

    /// <summary>Envelopes sent on a stream without an ack before the stream waits for acks.</summary>
    internal const int MaxUnacknowledged = 256;

    public override async Task<SendResponse> Send(SendRequest request, ServerCallContext context)
    {
        var sender = caller.Require(context);
        await limits.SendAsync(sender, context.CancellationToken).ConfigureAwait(false);
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
            cluster.MessageStored(recipient.Name);
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

        // One stream per user: this one takes over from any older one, here and on other nodes,
        // so that an envelope in flight is never pushed by two streams at once.
        var generation = await cluster.NextStreamGenerationAsync(user, context.CancellationToken).ConfigureAwait(false);
        using var listener = signals.Listen(user, generation);
        cluster.StreamOpened(user, generation);

        // Checked again once listening: a revocation that removed the token before this point is
        // seen here, and one after it disconnects the listener.
        caller.Require(context);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping, listener.Disconnected);
        var cancellationToken = stopping.Token;
        // Keyed by the 16-byte id as a value: no string per envelope on the push and ack paths.
        var inFlight = new HashSet<UInt128>();
        var inFlightLock = new Lock();
        ServerMetrics.ReceiveStreams.Inc();
        LogStreamOpened(logger, user);
        var acks = ReadAcksAsync(user, requestStream, listener, inFlight, inFlightLock, cancellationToken);
        using var writeDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
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
                            inFlight.Add(IdKey(envelope.MessageId));
                        }

                        await WriteAsync(responseStream, envelope, options.ReceiveWriteTimeout, writeDeadline, cancellationToken).ConfigureAwait(false);
                        after = envelope.Sequence;
                    }

                    if (batch.Count == room)
                    {
                        continue;
                    }

                    if (!caughtUp)
                    {
                        caughtUp = true;
                        await WriteAsync(responseStream, new ReceiveResponse { CaughtUp = true }, options.ReceiveWriteTimeout, writeDeadline, cancellationToken).ConfigureAwait(false);
                    }
                }

                // Also wake when the client completes its side (its last acks are applied then), so
                // that the call ends at once, not at the next poll; a client waits for that end.
                await Task.WhenAny(listener.WaitAsync(cluster.PollInterval, cancellationToken), acks).ConfigureAwait(false);
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

        if (!context.CancellationToken.IsCancellationRequested)
        {
            switch (listener.EndReason)
            {
                case MailboxSignals.StreamEnd.Revoked:
                    throw RpcErrors.PermissionDenied($"the certificate of \"{user}\" was revoked; this session is over");
                case MailboxSignals.StreamEnd.TakenOver:
                    ServerMetrics.StreamsTakenOver.Inc();
                    LogTakenOver(logger, user);
                    throw RpcErrors.Aborted($"a newer receive stream of \"{user}\" took over; one stream per user receives");
            }
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

    private async Task ReadAcksAsync(string user, IAsyncStreamReader<ReceiveRequest> requests, MailboxSignals.Listener listener, HashSet<UInt128> inFlight, Lock inFlightLock, CancellationToken cancellationToken)
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
                    inFlight.Remove(IdKey(id));
                }
            }

            listener.Signal();
        }
    }

    private static UInt128 IdKey(ReadOnlySpan<byte> id) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(id);

    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, StoredEnvelope envelope, TimeSpan timeout, CancellationTokenSource deadline, CancellationToken cancellationToken)
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
        await WriteAsync(stream, response, timeout, deadline, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes one response within <paramref name="timeout"/>. <paramref name="deadline"/> is the
    /// stream's one timer source (linked to <paramref name="cancellationToken"/>), re-armed per
    /// write rather than a new linked source and timer per envelope.
    /// </summary>
    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, ReceiveResponse response, TimeSpan timeout, CancellationTokenSource deadline, CancellationToken cancellationToken)
    {
        deadline.CancelAfter(timeout);
        try
        {
            await stream.WriteAsync(response, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("client stopped reading", e);
        }

        // Disarm the timer; a source that already fired cannot be reused, but then the stream is over.
        deadline.TryReset();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream opened for {User}")]
    private static partial void LogStreamOpened(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream closed for {User}")]
    private static partial void LogStreamClosed(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "receive stream of {User} ended: a newer stream of the same user took over")]
    private static partial void LogTakenOver(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "disconnecting {User}: the client stopped reading its stream")]
    private static partial void LogSlowReader(ILogger logger, string user);
}
