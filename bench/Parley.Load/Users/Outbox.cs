using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;

namespace Parley.Load.Users;

/// <summary>
/// A user's sends over one Mailbox.SendStream call: every send is written to the one request
/// stream (by one loop, as gRPC requires) and completes when the server's result with its id
/// comes back, committed or refused.
/// </summary>
internal sealed class Outbox : IAsyncDisposable
{
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    private readonly AsyncDuplexStreamingCall<SendRequest, SendResult> call;
    private readonly ConcurrentDictionary<ByteString, TaskCompletionSource<SendResult>> pending = new();
    private readonly Channel<SendRequest> queue = Channel.CreateUnbounded<SendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private readonly Task writing;
    private readonly Task reading;

    internal Outbox(Mailbox.MailboxClient mailbox)
    {
        call = mailbox.SendStream(cancellationToken: stop.Token);
        writing = Task.Run(WriteAsync, CancellationToken.None);
        reading = Task.Run(ReadAsync, CancellationToken.None);
    }

    /// <summary>Sends <paramref name="request"/>; the result says whether it was stored (StatusCode 0) or why not.</summary>
    internal Task<SendResult> SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        var answered = new TaskCompletionSource<SendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!pending.TryAdd(request.MessageId, answered))
        {
            throw new InvalidOperationException("a send with this id is already waiting for its result");
        }

        if (!queue.Writer.TryWrite(request))
        {
            pending.TryRemove(request.MessageId, out _);
            throw new InvalidOperationException("the outbox is closed");
        }

        return answered.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        try
        {
            while (await queue.Reader.WaitToReadAsync(stop.Token))
            {
                while (queue.Reader.TryRead(out var request))
                {
                    // Requests queued together go out in one flush.
                    call.RequestStream.WriteOptions = queue.Reader.TryPeek(out _) ? Buffered : null;
                    await call.RequestStream.WriteAsync(request, stop.Token);
                }
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or InvalidOperationException or IOException)
        {
            FailAll(e);
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var result in call.ResponseStream.ReadAllAsync(stop.Token))
            {
                if (pending.TryRemove(result.MessageId, out var answered))
                {
                    answered.TrySetResult(result);
                }
            }

            FailAll(new RpcException(new Status(StatusCode.Unavailable, "the send stream ended")));
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException)
        {
            FailAll(e);
        }
    }

    private void FailAll(Exception e)
    {
        foreach (var id in pending.Keys)
        {
            if (pending.TryRemove(id, out var answered))
            {
                answered.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        try
        {
            await writing.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        await stop.CancelAsync();
        await Task.WhenAll(writing, reading).ContinueWith(_ => { }, TaskScheduler.Default);
        call.Dispose();
        stop.Dispose();
    }
}
