using System.Diagnostics;
using System.Threading.Channels;
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
    RecipientCache recipients,
    Caller caller,
    RateLimits limits,
    MailboxSignals signals,
    ClusterLink cluster,
    IHostApplicationLifetime lifetime,
    StorageFaults storageFaults,
    TimeProvider time,
    ILogger<MailboxService> logger) : Mailbox.MailboxBase
{
    internal const int MessageIdSize = 16;

    /// <summary>Envelopes sent on a stream without an ack before the stream waits for acks.</summary>
    internal const int MaxUnacknowledged = 256;

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary>Sends the caller may have uncommitted on one SendStream before the server stops reading it.</summary>
    internal const int MaxSendsInFlight = 256;

    /// <summary>Most acknowledged ids one delete takes; the rest go in the next.</summary>
    private const int MaxAcksPerWrite = 1024;

    public override async Task<SendResponse> Send(SendRequest request, ServerCallContext context)
    {
        var sender = caller.Require(context);
        var accepted = await AcceptAsync(sender, request, context.CancellationToken).ConfigureAwait(false);
        return new SendResponse { ServerTimestampUnixMs = accepted.ServerTimestampUnixMs, Duplicate = accepted.Duplicate };
    }

    /// <summary>
    /// Send without an HTTP/2 stream per message. The checks of up to <see cref="MaxSendsInFlight"/>
    /// requests run at once (a user lookup, and in a cluster a shared rate count: each a round trip
    /// on PostgreSQL and Redis), but their writes are queued strictly in the order of the requests,
    /// so one stream's messages are stored in the order sent. Commits are not awaited in between:
    /// the writes share group commits, and each is answered once committed. A refusal is answered
    /// in its result and the call goes on.
    /// </summary>
    public override async Task SendStream(IAsyncStreamReader<SendRequest> requestStream, IServerStreamWriter<SendResult> responseStream, ServerCallContext context)
    {
        var sender = caller.Require(context);
        var cancellationToken = context.CancellationToken;
        // Synchronous continuations: the commit's continuation that queues a result goes on to
        // write it, rather than handing the writing loop to another thread-pool work item.
        var results = Channel.CreateUnbounded<SendResult>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
        // Not disposed: sends still committing when the caller leaves release it afterwards.
        var window = new SemaphoreSlim(MaxSendsInFlight, MaxSendsInFlight);
        var writing = WriteResultsAsync(results.Reader, responseStream, cancellationToken);
        // Completes once the write of the latest request before this one is queued (or refused).
        var previous = Task.CompletedTask;
        try
        {
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                // Once per message: a sender revoked mid-call stops being served at once.
                caller.Require(context);
                await window.WaitAsync(cancellationToken).ConfigureAwait(false);
                var request = requestStream.Current;
                previous = QueueInOrderAsync(previous, request, AdmitAsync(sender, request, cancellationToken), results.Writer, window, context);
            }

            for (var i = 0; i < MaxSendsInFlight; i++)
            {
                await window.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            results.Writer.TryComplete();
            await writing.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Once the write of the request before it is queued and its own checks are done, queues the
    /// write of <paramref name="request"/> (the commit is not awaited) or takes the checks' answer,
    /// and has it answered once known. When both are already done (every request on SQLite, whose
    /// reads complete synchronously) this runs to the end at once, on the reading thread.
    /// </summary>
    private async Task QueueInOrderAsync(Task previous, SendRequest request, Task<Admission> admitting, ChannelWriter<SendResult> results, SemaphoreSlim window, ServerCallContext context)
    {
        // Neither throws: this method never faults, and a failed check is answered below.
        await previous.ConfigureAwait(false);
        await ((Task)admitting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task<SendResult> accepting;
        try
        {
            var admitted = admitting.GetAwaiter().GetResult();
            accepting = admitted.Answer is { } answer ? Task.FromResult(answer) : CommitAsync(request, admitted.Envelope!, context.CancellationToken);
        }
#pragma warning disable CA1031 // whatever the checks threw is this message's answer (AnswerAsync), not the call's end
        catch (Exception e)
#pragma warning restore CA1031
        {
            accepting = Task.FromException<SendResult>(e);
        }

        _ = AnswerAsync(request, accepting, results, window, context);
    }

    private async Task AnswerAsync(SendRequest request, Task<SendResult> accepting, ChannelWriter<SendResult> results, SemaphoreSlim window, ServerCallContext context)
    {
        SendResult result;
        try
        {
            result = await accepting.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            result = Refused(request, e.StatusCode, e.Status.Detail);
        }
        catch (Exception e) when (StorageFaults.Describe(e) is { } reason)
        {
            storageFaults.Log(context, reason, e);
            result = Refused(request, StatusCode.Unavailable, reason);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            result = Refused(request, StatusCode.Cancelled, "the call ended");
        }
#pragma warning disable CA1031 // one failing message must not end the others' call; it is logged and answered INTERNAL
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogSendFailed(logger, e);
            result = Refused(request, StatusCode.Internal, "the server failed to store this message");
        }

        results.TryWrite(result);
        window.Release();
    }

    private static SendResult Refused(SendRequest request, StatusCode code, string reason) =>
        new() { MessageId = request.MessageId, StatusCode = (int)code, Error = reason };

    private static async Task WriteResultsAsync(ChannelReader<SendResult> results, IServerStreamWriter<SendResult> responseStream, CancellationToken cancellationToken)
    {
        try
        {
            while (await results.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (results.TryRead(out var result))
                {
                    // Results ready together go out in one flush (one TLS record, one send).
                    responseStream.WriteOptions = results.TryPeek(out _) ? Buffered : null;
                    await responseStream.WriteAsync(result, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException && cancellationToken.IsCancellationRequested)
        {
            // The caller left: what was committed stays stored, and its retry is answered "duplicate".
        }
    }

    /// <summary>Checks and stores one envelope; returns once it is committed. Throws the RpcException Send ends with when it is refused.</summary>
    private async Task<SendResult> AcceptAsync(string sender, SendRequest request, CancellationToken cancellationToken)
    {
        var admitted = await AdmitAsync(sender, request, cancellationToken).ConfigureAwait(false);
        return admitted.Answer ?? await CommitAsync(request, admitted.Envelope!, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The checks before a write: either the envelope to store, or the answer without a write (a
    /// retry of a message already stored, to a recipient who can no longer take new ones).
    /// </summary>
    private async Task<Admission> AdmitAsync(string sender, SendRequest request, CancellationToken cancellationToken)
    {
        await limits.SendAsync(sender, cancellationToken).ConfigureAwait(false);
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

        var name = AccountsService.RequireUserName(request.Recipient);
        var recipient = await recipients.GetAsync(name, options.MaxQueuedPerUser, cancellationToken).ConfigureAwait(false)
            ?? throw AccountsService.UnknownUser(name);
        var messageId = RequestBytes.Take(request.MessageId);
        if (recipient.Revoked)
        {
            if (!await IsStoredAsync(sender, messageId, cancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.FailedPrecondition($"the certificate of \"{name}\" is revoked");
            }

            return new Admission(Duplicate(request), null);
        }

        if (recipient.Queued >= options.MaxQueuedPerUser)
        {
            if (!await IsStoredAsync(sender, messageId, cancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.ResourceExhausted($"the mailbox of \"{name}\" is full; retry later");
            }

            return new Admission(Duplicate(request), null);
        }

        recipients.Admitted(name);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return new Admission(null, new StoredEnvelope(messageId, sender, name, RequestBytes.Take(request.Body), now));
    }

    /// <summary>Queues the write at once (before the first await, which keeps a stream's order) and answers after its commit.</summary>
    private async Task<SendResult> CommitAsync(SendRequest request, StoredEnvelope envelope, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var storing = store.Mailbox.EnqueueAsync(envelope, cancellationToken);

        // The write is queued: the recipient's stream may push it while it commits.
        var handedOver = HandsOverBeforeCommit && signals.Offer(envelope);
        var stored = await storing.ConfigureAwait(false);
        ServerMetrics.SendCommitSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (stored)
        {
            ServerMetrics.MessagesAccepted.Inc();
            if (!handedOver)
            {
                cluster.MessageStored(envelope.Recipient);
            }
        }
        else
        {
            ServerMetrics.MessagesDuplicate.Inc();
        }

        return new SendResult { MessageId = request.MessageId, ServerTimestampUnixMs = envelope.ServerTimestampMs, Duplicate = !stored };
    }

    /// <summary>
    /// Whether a connected recipient is handed a new envelope while its commit is under way, which
    /// takes the fsync out of the delivery path. The sender is still answered only after the commit.
    /// That needs a store whose writes commit in queue order (an ack cannot commit before the
    /// envelope it deletes) and one node (every enqueue passes through this process).
    /// </summary>
    private bool HandsOverBeforeCommit => store.Mailbox.CommitsInQueueOrder && !cluster.Configured;

    /// <summary>What <see cref="AdmitAsync"/> decided: an answer without a write, or the envelope to store.</summary>
    private readonly record struct Admission(SendResult? Answer, StoredEnvelope? Envelope);

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

        // The loop's one wait is the listener's: its end and the client's last ack signal it too.
        using var woken = cancellationToken.UnsafeRegister(static state => ((MailboxSignals.Listener)state!).Signal(), listener);
        _ = acks.ContinueWith(static (_, state) => ((MailboxSignals.Listener)state!).Signal(), listener, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        int Room()
        {
            lock (inFlightLock)
            {
                return MaxUnacknowledged - inFlight.Count;
            }
        }

        // An envelope already pushed on this stream (handed over before its commit, then read) is
        // not pushed again; it stays in flight until its ack has committed its delete.
        bool TakeInFlight(StoredEnvelope envelope)
        {
            lock (inFlightLock)
            {
                return inFlight.Add(IdKey(envelope.MessageId));
            }
        }

        var handsOver = HandsOverBeforeCommit;
        var toPush = new List<StoredEnvelope>();
        try
        {
            long after = 0;
            var caughtUp = false;
            var readStore = true;
            while (!cancellationToken.IsCancellationRequested && !acks.IsCompleted)
            {
                // Handed over while live: newer than everything pushed so far.
                listener.TakeOffered(Room(), toPush);
                if (toPush.Count > 0)
                {
                    toPush.RemoveAll(envelope => !TakeInFlight(envelope));
                    ServerMetrics.PushedBeforeCommit.Inc(toPush.Count);
                    await PushAsync(responseStream, toPush, listener, cancellationToken).ConfigureAwait(false);
                }

                // Live, the store holds nothing this stream was not handed; it is read at the poll
                // interval all the same (StreamWatchdog), as the safety net it is for every stream.
                var room = Room();
                if ((readStore || !listener.IsLive) && room > 0)
                {
                    var refusals = listener.Refusals;
                    if (handsOver && !listener.IsLive)
                    {
                        // The read below then sees every envelope whose offer was refused before
                        // it, so that it may decide the stream is live again. (A live stream's
                        // read at the poll interval needs no such wait: it decides nothing new.)
                        await store.Mailbox.WaitForQueuedWritesAsync(cancellationToken).ConfigureAwait(false);
                    }

                    listener.StoreRead();
                    var batch = await store.Mailbox.PeekAsync(user, after, room, cancellationToken).ConfigureAwait(false);
                    foreach (var envelope in batch)
                    {
                        after = envelope.Sequence;
                        if (TakeInFlight(envelope))
                        {
                            toPush.Add(envelope);
                        }
                    }

                    await PushAsync(responseStream, toPush, listener, cancellationToken).ConfigureAwait(false);
                    if (batch.Count == room)
                    {
                        continue;
                    }

                    if (!caughtUp)
                    {
                        caughtUp = true;
                        await WriteAsync(responseStream, new ReceiveResponse { CaughtUp = true }, listener, cancellationToken).ConfigureAwait(false);
                    }

                    if (handsOver)
                    {
                        listener.GoLive(refusals);
                    }
                }

                // Also woken when the client completes its side (its last acks are applied then),
                // so that the call ends at once, not at the next poll; a client waits for that end.
                await listener.WaitAsync().ConfigureAwait(false);
                readStore = listener.TakePollDue();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException && cancellationToken.IsCancellationRequested)
        {
            // The client left, the server is stopping, or the watchdog ended a stream whose write
            // was stuck: unacknowledged envelopes stay stored.
        }
        finally
        {
            ServerMetrics.ReceiveStreams.Dec();
            if (listener.EndReason == MailboxSignals.StreamEnd.SlowReader)
            {
                LogSlowReader(logger, user);
            }

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

    private SendResult Duplicate(SendRequest request)
    {
        ServerMetrics.MessagesDuplicate.Inc();
        return new SendResult { MessageId = request.MessageId, ServerTimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(), Duplicate = true };
    }

    private async Task ReadAcksAsync(string user, IAsyncStreamReader<ReceiveRequest> requests, MailboxSignals.Listener listener, HashSet<UInt128> inFlight, Lock inFlightLock, CancellationToken cancellationToken)
    {
        await foreach (var ids in AckBatches.ReadAsync(requests, MessageIdSize, MaxAcksPerWrite, cancellationToken).ConfigureAwait(false))
        {
            var deleted = await store.Mailbox.AcknowledgeAsync(user, ids, cancellationToken).ConfigureAwait(false);
            ServerMetrics.MessagesDelivered.Inc(deleted);
            bool wasFull;
            lock (inFlightLock)
            {
                wasFull = inFlight.Count >= MaxUnacknowledged;
                foreach (var id in ids)
                {
                    inFlight.Remove(IdKey(id));
                }
            }

            // Only a stream that ran out of room waits for acks: it computed no room with the set
            // full, so the first ack after that sees it full. Waking the others would cost a
            // thread-pool hand-off per ack and find nothing to do.
            if (wasFull)
            {
                listener.Signal();
            }
        }
    }

    private static UInt128 IdKey(ReadOnlySpan<byte> id) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(id);

    /// <summary>Writes <paramref name="envelopes"/> with one flush after the last, and empties the list.</summary>
    private static async Task PushAsync(IServerStreamWriter<ReceiveResponse> stream, List<StoredEnvelope> envelopes, MailboxSignals.Listener listener, CancellationToken cancellationToken)
    {
        for (var i = 0; i < envelopes.Count; i++)
        {
            stream.WriteOptions = i < envelopes.Count - 1 ? Buffered : null;
            await WriteAsync(stream, envelopes[i], listener, cancellationToken).ConfigureAwait(false);
        }

        envelopes.Clear();
    }

    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, StoredEnvelope envelope, MailboxSignals.Listener listener, CancellationToken cancellationToken)
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
        await WriteAsync(stream, response, listener, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes one response. A write stuck for <see cref="ServerOptions.ReceiveWriteTimeout"/> (the
    /// client stopped reading and HTTP/2 flow control filled) ends the stream: the watchdog
    /// cancels <paramref name="cancellationToken"/>, which is linked to the listener's end.
    /// </summary>
    private static async Task WriteAsync(IServerStreamWriter<ReceiveResponse> stream, ReceiveResponse response, MailboxSignals.Listener listener, CancellationToken cancellationToken)
    {
        listener.BeginWrite();
        try
        {
            await stream.WriteAsync(response, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            listener.EndWrite();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "storing a message failed")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream opened for {User}")]
    private static partial void LogStreamOpened(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Debug, Message = "receive stream closed for {User}")]
    private static partial void LogStreamClosed(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "receive stream of {User} ended: a newer stream of the same user took over")]
    private static partial void LogTakenOver(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "disconnecting {User}: the client stopped reading its stream")]
    private static partial void LogSlowReader(ILogger logger, string user);
}
