using System.Net;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Parley.Client.Connection;

/// <summary>
/// Makes <see cref="WriteFlags.BufferHint"/> on a request stream mean what gRPC documents: the
/// message may wait in the connection's buffer for the next write. Grpc.Net.Client flushes the
/// HTTP/2 connection after every message it writes to a request stream, whatever the write
/// options say, so a sender with many messages ready paid one TLS record and one <c>send</c>
/// system call for each (session 10: a fifth of the load tool's CPU). Here a write that carries
/// the hint stops at the connection's buffer; the next write without it, or the end of the
/// request, sends everything together.
/// </summary>
internal static class WriteBuffering
{
    // Set for the duration of one hinted write; the request body's FlushAsync, which Grpc.Net.Client
    // calls within that same write's flow, reads it. Other calls on the connection never see it.
    private static readonly AsyncLocal<bool> HintedWrite = new();

    private static bool Hinted(WriteOptions? options) => options is not null && (options.Flags & WriteFlags.BufferHint) != 0;

    /// <summary>Gives every streamed request body a flush that a hinted write skips.</summary>
    internal sealed class Handler : DelegatingHandler
    {
        internal Handler(HttpMessageHandler inner)
            : base(inner)
        {
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // A unary request knows its length and is written and flushed once; only a stream's body has none.
            if (request.Content is { } content && content.Headers.ContentLength is null)
            {
                request.Content = new Body(content);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Hands each streaming call a request writer that marks its hinted writes.</summary>
    internal sealed class Interceptor : Grpc.Core.Interceptors.Interceptor
    {
        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
        {
            var call = continuation(context);
            return new AsyncDuplexStreamingCall<TRequest, TResponse>(
                new Writer<TRequest>(call.RequestStream), call.ResponseStream, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
        {
            var call = continuation(context);
            return new AsyncClientStreamingCall<TRequest, TResponse>(
                new Writer<TRequest>(call.RequestStream), call.ResponseAsync, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }
    }

    private sealed class Writer<T>(IClientStreamWriter<T> inner) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(T message, CancellationToken cancellationToken) =>
            Hinted(inner.WriteOptions) ? WriteHintedAsync(message, cancellationToken) : inner.WriteAsync(message, cancellationToken);

        public Task CompleteAsync() => inner.CompleteAsync();

        // An async method, so the flag is set only in this write's flow and the caller's is left as it was.
        private async Task WriteHintedAsync(T message, CancellationToken cancellationToken)
        {
            HintedWrite.Value = true;
            await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Body : HttpContent
    {
        private readonly HttpContent inner;

        internal Body(HttpContent inner)
        {
            this.inner = inner;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            inner.CopyToAsync(new BodyStream(stream), context);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            inner.CopyToAsync(new BodyStream(stream), context, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The HTTP/2 request body, whose flush a hinted write skips. It does not own the stream.</summary>
    private sealed class BodyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override void Flush()
        {
            if (!HintedWrite.Value)
            {
                inner.Flush();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) =>
            HintedWrite.Value ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
