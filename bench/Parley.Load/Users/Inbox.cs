using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;

namespace Parley.Load.Users;

/// <summary>
/// A user's open Receive stream: decrypts every pushed envelope, hands the plaintext to the
/// scenario and acknowledges the id. Acks are written by one loop that takes every id queued
/// since its last write, so they batch under load and go out at once when idle.
/// </summary>
internal sealed class Inbox : IAsyncDisposable
{
    private readonly LoadUser user;
    private readonly Action<string, byte[]> onMessage;
    private readonly AsyncDuplexStreamingCall<ReceiveRequest, ReceiveResponse> call;
    private readonly Channel<ByteString> acks = Channel.CreateUnbounded<ByteString>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop;
    private readonly TaskCompletionSource caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task reading;
    private readonly Task acking;
    private readonly bool discardStale;
    private long delivered;
    private long failures;
    private long stale;

    private Inbox(LoadUser user, Action<string, byte[]> onMessage, bool discardStale, CancellationToken cancellationToken)
    {
        this.user = user;
        this.onMessage = onMessage;
        this.discardStale = discardStale;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        call = user.Server.Mailbox.Receive(cancellationToken: stop.Token);
        reading = Task.Run(ReadAsync, CancellationToken.None);
        acking = Task.Run(AckAsync, CancellationToken.None);
    }

    /// <summary>Envelopes decrypted.</summary>
    internal long Delivered => Interlocked.Read(ref delivered);

    /// <summary>Envelopes that did not decrypt (replay, tampering, no session).</summary>
    internal long Failures => Interlocked.Read(ref failures);

    /// <summary>Completes when the server says every envelope stored at open was pushed.</summary>
    internal Task CaughtUp => caughtUp.Task;

    /// <summary>Faults if the stream broke before it was disposed.</summary>
    internal Task Completion => reading;

    /// <summary>Envelopes left over from an earlier run (pushed before the caught-up marker), acked unread.</summary>
    internal long Stale => Interlocked.Read(ref stale);

    /// <summary>
    /// Opens the stream. With <paramref name="discardStale"/>, what was already queued when it
    /// opened is acknowledged without decrypting: a cached user's leftovers from an interrupted
    /// earlier run, whose sessions are gone.
    /// </summary>
    internal static Inbox Open(LoadUser user, Action<string, byte[]> onMessage, CancellationToken cancellationToken, bool discardStale = false) =>
        new(user, onMessage, discardStale, cancellationToken);

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync(stop.Token))
            {
                if (response.CaughtUp)
                {
                    caughtUp.TrySetResult();
                    continue;
                }

                var envelope = response.Envelope;
                if (discardStale && !caughtUp.Task.IsCompleted)
                {
                    Interlocked.Increment(ref stale);
                    acks.Writer.TryWrite(envelope.MessageId);
                    continue;
                }

                if (user.AlreadyReceived(envelope.MessageId))
                {
                    acks.Writer.TryWrite(envelope.MessageId);
                    continue;
                }

                byte[] plaintext;
                try
                {
                    plaintext = user.Decrypt(envelope.Sender, envelope.Body);
                }
                catch (Exception e) when (e is Protocol.ParleyProtocolException or InvalidOperationException)
                {
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        Console.Error.WriteLine($"parley-load: {user.Name} could not decrypt a message from {envelope.Sender}: {e.Message}");
                    }

                    acks.Writer.TryWrite(envelope.MessageId);
                    continue;
                }

                // Acked once handed over, as a client acks once it has stored the message.
                user.Received(envelope.MessageId);
                onMessage(envelope.Sender, plaintext);
                Interlocked.Increment(ref delivered);
                acks.Writer.TryWrite(envelope.MessageId);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            acks.Writer.TryComplete();
            caughtUp.TrySetCanceled();
        }
    }

    private async Task AckAsync()
    {
        var reader = acks.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stop.Token))
            {
                var request = new ReceiveRequest();
                while (request.Ack.Count < 512 && reader.TryRead(out var id))
                {
                    request.Ack.Add(id);
                }

                await call.RequestStream.WriteAsync(request, stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException && stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Let the acks already queued reach the server before the stream ends.
        acks.Writer.TryComplete();
        try
        {
            await acking.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or RpcException or OperationCanceledException or InvalidOperationException)
        {
        }

        await stop.CancelAsync();
        try
        {
            await reading;
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException)
        {
        }

        call.Dispose();
        stop.Dispose();
    }
}
