using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Server.Hosting;
using Parley.Server.Rendezvous;
using Parley.Server.Security;

namespace Parley.Server.Services;

/// <summary>
/// The invite-code rendezvous (docs/protocol.md §12.1): joins the client that opened a nameplate
/// with the one that claims it and relays their frames, which it cannot read (SPAKE2 messages and
/// confirmations, then records of the PAKE channel or Double Ratchet messages). One exchange per
/// nameplate; any failure burns it.
/// </summary>
internal sealed partial class RendezvousService(
    ServerOptions options,
    IRendezvousRegistry registry,
    Caller caller,
    RateLimits limits,
    IHostApplicationLifetime lifetime,
    ILogger<RendezvousService> logger) : Api.Rendezvous.RendezvousBase
{
    public override async Task Exchange(IAsyncStreamReader<RendezvousRequest> requestStream, IServerStreamWriter<RendezvousResponse> responseStream, ServerCallContext context)
    {
        var user = caller.Require(context);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var cancellationToken = stopping.Token;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var first = requestStream.Current;
        if (first.KindCase is not (RendezvousRequest.KindOneofCase.Open or RendezvousRequest.KindOneofCase.Claim))
        {
            throw RendezvousStatus.OutOfOrder("the first frame must be `open` or `claim`");
        }

        if (!await limits.TryRendezvousAsync(user, cancellationToken).ConfigureAwait(false))
        {
            throw RendezvousStatus.RateLimited("too many invitations opened or claimed; retry in a minute");
        }

        var side = first.KindCase == RendezvousRequest.KindOneofCase.Open ? RendezvousSide.A : RendezvousSide.B;
        var room = side == RendezvousSide.A
            ? await registry.OpenAsync(user, cancellationToken).ConfigureAwait(false)
            : await registry.ClaimAsync(first.Claim.Nameplate, user, cancellationToken).ConfigureAwait(false);
        LogJoined(logger, user, side, room.Nameplate);

        var reading = ReadAsync(room, side, requestStream, cancellationToken);
        try
        {
            await foreach (var message in room.InboxOf(side).ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            room.Fail(side, forSide: null);
        }
        finally
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                await reading.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or RpcException or InvalidOperationException)
            {
                // The reader ends with the call; the room already knows how.
            }
        }

        if (room.EndOf(side) is { } refusal)
        {
            LogEnded(logger, room.Nameplate, side, refusal.StatusCode);
            throw refusal;
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is stopping"));
        }
    }

    private async Task ReadAsync(IRendezvousRoom room, RendezvousSide side, IAsyncStreamReader<RendezvousRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var request = requests.Current;
                switch (request.KindCase)
                {
                    case RendezvousRequest.KindOneofCase.Relay when request.Relay.Length > options.RendezvousMaxFrameBytes:
                        room.Fail(side, RendezvousStatus.FrameTooLarge(request.Relay.Length, options.RendezvousMaxFrameBytes));
                        return;
                    case RendezvousRequest.KindOneofCase.Relay:
                        if (!await limits.TryRendezvousFrameAsync(room.Nameplate, cancellationToken).ConfigureAwait(false))
                        {
                            room.Fail(side, RendezvousStatus.RateLimited("too many frames through this nameplate; the rendezvous is over"));
                            return;
                        }

                        if (!await room.RelayAsync(side, request.Relay, cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        break;
                    case RendezvousRequest.KindOneofCase.Mismatch:
                        room.Mismatch();
                        return;
                    default:
                        room.Fail(side, RendezvousStatus.OutOfOrder("`open` and `claim` come first and once"));
                        return;
                }
            }

            await room.CloseAsync(side, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or RpcException or InvalidOperationException)
        {
            room.Fail(side, forSide: null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "rendezvous: {User} is side {Side} of nameplate {Nameplate}")]
    private static partial void LogJoined(ILogger logger, string user, RendezvousSide side, uint nameplate);

    [LoggerMessage(Level = LogLevel.Information, Message = "rendezvous {Nameplate} ended for side {Side}: {Status}")]
    private static partial void LogEnded(ILogger logger, uint nameplate, RendezvousSide side, StatusCode status);
}
