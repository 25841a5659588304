using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Parley.Api;
using Parley.Client.Connection;

namespace Parley.Client.Tests.Connection;

/// <summary>
/// Grpc.Net.Client writing a request stream through <see cref="WriteBuffering"/>: the HTTP/2
/// request body underneath records what reaches it, so the tests see which writes were flushed.
/// </summary>
public sealed class WriteBufferingTests
{
    private const string CallName = "x-test-call";

    private static readonly WriteOptions Hint = new(WriteFlags.BufferHint);

    [Fact]
    public async Task A_hinted_write_waits_in_the_buffer_until_a_plain_write_flushes_both()
    {
        var body = new RecordingBody();
        using var call = Open(body);

        call.RequestStream.WriteOptions = Hint;
        await call.RequestStream.WriteAsync(Request(1));
        await call.RequestStream.WriteAsync(Request(2));
        var flushesAfterHinted = body.Flushes;
        var bytesAfterHinted = body.Bytes;

        call.RequestStream.WriteOptions = null;
        await call.RequestStream.WriteAsync(Request(3));

        Assert.Equal(0, flushesAfterHinted);
        Assert.True(bytesAfterHinted > 0, "the hinted messages reach the connection's buffer");
        Assert.Equal(1, body.Flushes);
        Assert.Equal(3, body.Messages);
    }

    [Fact]
    public async Task Every_plain_write_is_flushed()
    {
        var body = new RecordingBody();
        using var call = Open(body);

        await call.RequestStream.WriteAsync(Request(1));
        await call.RequestStream.WriteAsync(Request(2));

        Assert.Equal(2, body.Flushes);
    }

    [Fact]
    public async Task A_hint_on_one_call_does_not_hold_back_another_on_the_same_connection()
    {
        var first = new RecordingBody();
        var second = new RecordingBody();
        using var channel = Channel(new() { ["hinted"] = first, ["plain"] = second });
        var mailbox = new Mailbox.MailboxClient(channel.Intercept(new WriteBuffering.Interceptor()));
        using var hinted = mailbox.SendStream(new Metadata { { CallName, "hinted" } });
        using var plain = mailbox.SendStream(new Metadata { { CallName, "plain" } });

        hinted.RequestStream.WriteOptions = Hint;
        await hinted.RequestStream.WriteAsync(Request(1));
        await plain.RequestStream.WriteAsync(Request(2));

        Assert.Equal(0, first.Flushes);
        Assert.Equal(1, second.Flushes);
    }

    private static AsyncDuplexStreamingCall<SendRequest, SendResult> Open(RecordingBody body)
    {
        var channel = Channel(new() { ["only"] = body });
        return new Mailbox.MailboxClient(channel.Intercept(new WriteBuffering.Interceptor())).SendStream(new Metadata { { CallName, "only" } });
    }

    private static GrpcChannel Channel(Dictionary<string, RecordingBody> bodies) =>
        GrpcChannel.ForAddress("http://parley.test", new GrpcChannelOptions
        {
            HttpHandler = new WriteBuffering.Handler(new RecordingServer(bodies)),
            DisposeHttpClient = true,
        });

    private static SendRequest Request(int n) => new()
    {
        MessageId = ByteString.CopyFrom(new byte[16] { (byte)n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }),
        Recipient = "bob",
        Body = ByteString.CopyFrom(new byte[256]),
    };

    /// <summary>
    /// Stands where SocketsHttpHandler would: answers each call with open response headers and
    /// copies its request body into the <see cref="RecordingBody"/> named by the call's header, as the
    /// HTTP/2 connection would.
    /// </summary>
    private sealed class RecordingServer(Dictionary<string, RecordingBody> bodies) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = bodies[request.Headers.GetValues(CallName).Single()];
            _ = request.Content!.CopyToAsync(body, cancellationToken);
            var content = new StreamContent(new MemoryStream());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = content };
            return Task.FromResult(response);
        }
    }

    /// <summary>The request body as the connection would take it: bytes buffered, and the flushes that sent some.</summary>
    private sealed class RecordingBody : MemoryStream
    {
        private readonly Lock gate = new();
        private int flushes;
        private long flushedBytes;
        private int messages;

        /// <summary>
        /// Flushes that sent data. The request's start flushes its headers before any message; that
        /// one is not counted.
        /// </summary>
        public int Flushes
        {
            get
            {
                lock (gate)
                {
                    return flushes;
                }
            }
        }

        public long Bytes
        {
            get
            {
                lock (gate)
                {
                    return Length;
                }
            }
        }

        /// <summary>gRPC messages written: Grpc.Net.Client writes each, prefix and body, in one call.</summary>
        public int Messages
        {
            get
            {
                lock (gate)
                {
                    return messages;
                }
            }
        }

        // MemoryStream's span overload calls back into this one when subclassed.
        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (gate)
            {
                base.Write(buffer, offset, count);
                messages++;
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override void Flush()
        {
            lock (gate)
            {
                if (Length != flushedBytes)
                {
                    flushedBytes = Length;
                    flushes++;
                }
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flush();
            return Task.CompletedTask;
        }
    }
}
