using Grpc.Core;

namespace Parley.Client.Connection;

/// <summary>
/// The one rule for reading and writing a gRPC stream. A unary call that loses the server fails
/// with an <see cref="RpcException"/>, which <see cref="Messenger.Translate"/> maps; a stream whose
/// server dies mid-call can instead fail with the transport's own exception (an
/// <see cref="IOException"/>, or an <see cref="HttpRequestException"/> such as HttpIOException,
/// when the HTTP/2 response ends under gRPC's feet). Every stream read and write goes through here,
/// so both surface as <see cref="ClientErrorKind.ServerUnreachable"/>, one line for the user.
/// </summary>
internal static class StreamTransport
{
    /// <summary>Reads the next message; false at the end of the stream.</summary>
    internal static async Task<bool> MoveNextAsync<T>(IAsyncStreamReader<T> reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.MoveNext(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>Writes one message.</summary>
    internal static async Task WriteAsync<T>(IClientStreamWriter<T> writer, T message, CancellationToken cancellationToken)
    {
        try
        {
            await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>Half-closes the request side.</summary>
    internal static async Task CompleteAsync<T>(IClientStreamWriter<T> writer)
    {
        try
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>
    /// True for an exception that only says the call is already over, which cleanup after a call
    /// (half-close, draining, closing) may ignore: the server's status, a call already completed or
    /// cancelled, or the server gone.
    /// </summary>
    internal static bool MeansCallIsOver(Exception e) =>
        e is RpcException or InvalidOperationException or OperationCanceledException
        || e is ClientException { Kind: ClientErrorKind.ServerUnreachable }
        || IsTransportFailure(e);

    private static bool IsTransportFailure(Exception e) => e is IOException or HttpRequestException;

    private static ClientException Unreachable(Exception e) =>
        new(ClientErrorKind.ServerUnreachable, $"cannot reach the server: {e.Message}", e);
}
