using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;

namespace Parley.Client.Rendezvous;

/// <summary>
/// One call of Rendezvous.Exchange (api.proto; docs/protocol.md §12.1) as the client sees it:
/// open or claim a nameplate, wait for the peer, then send and receive opaque frames. Every
/// refusal of the server becomes one <see cref="ClientException"/> of its own kind.
/// </summary>
internal sealed class RendezvousStream : IAsyncDisposable
{
    /// <summary>The trailer naming why the server ended the call (Parley.Server's RendezvousStatus).</summary>
    internal const string ErrorTrailer = "parley-rendezvous-error";

    private static readonly TimeSpan MismatchReportTimeout = TimeSpan.FromSeconds(10);

    private readonly AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> call;
    private bool paired;
    private bool requestsCompleted;

    private RendezvousStream(AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> call, uint nameplate, DateTimeOffset? expires)
    {
        this.call = call;
        Nameplate = nameplate;
        Expires = expires;
    }

    internal uint Nameplate { get; }

    /// <summary>When an opened nameplate expires unless claimed (side A only).</summary>
    internal DateTimeOffset? Expires { get; }

    /// <summary>Side A: asks the server for a nameplate.</summary>
    internal static async Task<RendezvousStream> OpenAsync(ServerConnection connection, CancellationToken cancellationToken)
    {
        var call = connection.Rendezvous.Exchange(cancellationToken: cancellationToken);
        try
        {
            await StreamTransport.WriteAsync(call.RequestStream, new RendezvousRequest { Open = new RendezvousOpen() }, cancellationToken).ConfigureAwait(false);
            var first = await NextAsync(call, cancellationToken).ConfigureAwait(false);
            if (first?.KindCase != RendezvousResponse.KindOneofCase.Opened)
            {
                throw new ClientException(ClientErrorKind.Refused, "the server did not allocate a nameplate");
            }

            return new RendezvousStream(call, first.Opened.Nameplate, DateTimeOffset.FromUnixTimeMilliseconds(first.Opened.ExpiresUnixMs));
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>Side B: claims <paramref name="nameplate"/>; returns once paired.</summary>
    internal static async Task<RendezvousStream> ClaimAsync(ServerConnection connection, uint nameplate, CancellationToken cancellationToken)
    {
        var call = connection.Rendezvous.Exchange(cancellationToken: cancellationToken);
        try
        {
            await StreamTransport.WriteAsync(call.RequestStream, new RendezvousRequest { Claim = new RendezvousClaim { Nameplate = nameplate } }, cancellationToken).ConfigureAwait(false);
            var stream = new RendezvousStream(call, nameplate, expires: null);
            await stream.WaitForPeerAsync(cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the other side is there.</summary>
    internal async Task WaitForPeerAsync(CancellationToken cancellationToken)
    {
        while (!paired)
        {
            var next = await NextAsync(call, cancellationToken).ConfigureAwait(false);
            if (next?.KindCase != RendezvousResponse.KindOneofCase.Paired)
            {
                throw PeerLeft();
            }

            paired = true;
        }
    }

    internal async Task SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        try
        {
            await StreamTransport.WriteAsync(call.RequestStream, new RendezvousRequest { Relay = UnsafeByteOperations.UnsafeWrap(frame) }, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }
        catch (InvalidOperationException e)
        {
            // The server already ended the call: its status says why. (Not read from the response
            // stream here: in a chat another task is reading it.)
            throw EndedCall(e);
        }
    }

    /// <summary>The peer's next frame; null once the peer has closed its side normally.</summary>
    internal async Task<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var next = await NextAsync(call, cancellationToken).ConfigureAwait(false);
        return next?.KindCase switch
        {
            RendezvousResponse.KindOneofCase.Relay => next.Relay.ToByteArray(),
            RendezvousResponse.KindOneofCase.PeerClosed or null => null,
            _ => throw new ClientException(ClientErrorKind.Refused, "the server sent a rendezvous message out of order"),
        };
    }

    /// <summary>The peer's next frame, which must come: the peer closing first means it left.</summary>
    internal async Task<byte[]> ReceiveRequiredAsync(CancellationToken cancellationToken) =>
        await ReceiveAsync(cancellationToken).ConfigureAwait(false) ?? throw PeerLeft();

    /// <summary>Tells the server the peer's confirmation was wrong (it burns the nameplate and tells the peer).</summary>
    internal async Task ReportMismatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StreamTransport.WriteAsync(call.RequestStream, new RendezvousRequest { Mismatch = new RendezvousMismatch() }, cancellationToken).ConfigureAwait(false);
            await StreamTransport.CompleteAsync(call.RequestStream).ConfigureAwait(false);
            requestsCompleted = true;

            // Wait for the server to end the call: it has then told the peer. Leaving earlier could
            // cancel the call before the report is read, and the peer would see "left" instead.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(MismatchReportTimeout);
            while (await StreamTransport.MoveNextAsync(call.ResponseStream, wait.Token).ConfigureAwait(false))
            {
                // Frames the peer sent before the server learnt of the mismatch.
            }
        }
        catch (Exception e) when (StreamTransport.MeansCallIsOver(e))
        {
            // The call is over (normally with ABORTED / mismatch); the attempt fails either way.
        }
    }

    /// <summary>Half-closes only: the server ends this side's call, which whoever reads the responses sees as their end.</summary>
    internal async Task CompleteRequestsAsync()
    {
        if (requestsCompleted)
        {
            return;
        }

        requestsCompleted = true;
        try
        {
            await StreamTransport.CompleteAsync(call.RequestStream).ConfigureAwait(false);
        }
        catch (Exception e) when (StreamTransport.MeansCallIsOver(e))
        {
            // The call is already over.
        }
    }

    /// <summary>Ends this side normally: half-closes, then lets the server end the call.</summary>
    internal async Task CloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!requestsCompleted)
            {
                requestsCompleted = true;
                await StreamTransport.CompleteAsync(call.RequestStream).ConfigureAwait(false);
            }

            while (await StreamTransport.MoveNextAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false))
            {
                // Frames after this side is done are of no use.
            }
        }
        catch (Exception e) when (StreamTransport.MeansCallIsOver(e) && e is not OperationCanceledException)
        {
            // This side has what it needed; how the call ends no longer matters.
        }
    }

    public ValueTask DisposeAsync()
    {
        call.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One line for each rendezvous refusal; anything else as any other server error.</summary>
    internal static ClientException Translate(RpcException e) => e.Trailers.GetValue(ErrorTrailer) switch
    {
        "mismatch" => CodeMismatch(),
        "expired" => new ClientException(ClientErrorKind.CodeExpired, "the code has expired — ask for a new one", e),
        "unknown_nameplate" => new ClientException(ClientErrorKind.CodeUnknown, "no invitation has this code's number — check it, or ask for a new code", e),
        "already_claimed" => new ClientException(ClientErrorKind.CodeTaken, "the code was already used — ask for a new one", e),
        "peer_left" => PeerLeft(),
        "rate_limited" or "frame_too_large" or "out_of_order" => new ClientException(ClientErrorKind.Refused, $"the server refused: {e.Status.Detail}", e),
        _ => Messenger.Translate(e),
    };

    private ClientException EndedCall(Exception writeFailure)
    {
        try
        {
            var status = call.GetStatus();
            return status.StatusCode == StatusCode.OK ? PeerLeft() : Translate(new RpcException(status, call.GetTrailers()));
        }
        catch (InvalidOperationException)
        {
            return new ClientException(ClientErrorKind.PeerLeft, "the other side left before the exchange finished", writeFailure);
        }
    }

    internal static ClientException CodeMismatch() => new(ClientErrorKind.CodeMismatch, "code mismatch — nothing was exchanged");

    internal static ClientException PeerLeft() => new(ClientErrorKind.PeerLeft, "the other side left before the exchange finished");

    private static async Task<RendezvousResponse?> NextAsync(AsyncDuplexStreamingCall<RendezvousRequest, RendezvousResponse> call, CancellationToken cancellationToken)
    {
        try
        {
            return await StreamTransport.MoveNextAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : null;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("cancelled", e, cancellationToken);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }
    }
}
