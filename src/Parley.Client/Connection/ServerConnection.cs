using System.Net.Security;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Parley.Api;
using Parley.Protocol.Identity;
using Parley.Protocol.Wire;

namespace Parley.Client.Connection;

/// <summary>
/// One TLS connection to a Parley server (one HTTP/2 connection, so the per-connection token stays
/// valid), with the generated gRPC clients and the challenge-response login of docs/protocol.md §9.
/// </summary>
public sealed class ServerConnection : IAsyncDisposable
{
    private readonly GrpcChannel channel;
    private readonly TokenHolder token = new();

    private ServerConnection(Uri server, GrpcChannel channel)
    {
        Server = server;
        this.channel = channel;
        var invoker = channel.Intercept(new WriteBuffering.Interceptor()).Intercept(new BearerTokenInterceptor(token));
        Accounts = new Accounts.AccountsClient(invoker);
        Directory = new Api.Directory.DirectoryClient(invoker);
        Mailbox = new Mailbox.MailboxClient(invoker);
        Admin = new Admin.AdminClient(invoker);
        Rendezvous = new Api.Rendezvous.RendezvousClient(invoker);
    }

    /// <summary>The server's address.</summary>
    public Uri Server { get; }

    /// <summary>The user this connection authenticated as, if any.</summary>
    public string? AuthenticatedAs { get; private set; }

    /// <summary>Registration, authentication and certificates.</summary>
    public Accounts.AccountsClient Accounts { get; }

    /// <summary>The prekey directory.</summary>
    public Api.Directory.DirectoryClient Directory { get; }

    /// <summary>Send and receive.</summary>
    public Mailbox.MailboxClient Mailbox { get; }

    /// <summary>Invite-code rendezvous (docs/protocol.md §12).</summary>
    public Api.Rendezvous.RendezvousClient Rendezvous { get; }

    /// <summary>Operator commands (need the admin token header).</summary>
    public Admin.AdminClient Admin { get; }

    /// <summary>Opens a connection that trusts only <paramref name="ca"/>.</summary>
    public static ServerConnection Open(Uri server, PinnedCertificateAuthority ca)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(ca);
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca.Validate(certificate, errors),
            },
        };
        var channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = new WriteBuffering.Handler(handler),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 4 * 1024 * 1024,
        });
        return new ServerConnection(server, channel);
    }

    /// <summary>Registers <paramref name="name"/> for <paramref name="identity"/>; returns the certificate and CA (PEM).</summary>
    public async Task<RegisterResponse> RegisterAsync(string name, IdentityKeyPair identity, string? invite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var challenge = await Accounts.ChallengeAsync(new ChallengeRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Accounts.RegisterAsync(
            new RegisterRequest
            {
                Name = name,
                Identity = identity.PublicKey.ToWire(),
                Challenge = challenge.Challenge,
                Signature = ByteString.CopyFrom(identity.Sign(AuthenticationMessages.Register(challenge.ServerName, name, challenge.Challenge.Span))),
                Invite = invite ?? string.Empty,
            },
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Logs in as <paramref name="name"/>; later calls on this connection carry the token.</summary>
    public async Task AuthenticateAsync(string name, IdentityKeyPair identity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var challenge = await Accounts.ChallengeAsync(new ChallengeRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
        var response = await Accounts.AuthenticateAsync(
            new AuthenticateRequest
            {
                Name = name,
                Challenge = challenge.Challenge,
                Signature = ByteString.CopyFrom(identity.Sign(AuthenticationMessages.Authenticate(challenge.ServerName, challenge.Challenge.Span))),
            },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        token.Value = response.Token;
        AuthenticatedAs = name;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class TokenHolder
    {
        public string? Value { get; set; }
    }

    /// <summary>Adds `authorization: Bearer` to every call once authenticated.</summary>
    private sealed class BearerTokenInterceptor(TokenHolder token) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, WithToken(context));

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(WithToken(context));

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, WithToken(context));

        private ClientInterceptorContext<TRequest, TResponse> WithToken<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
            where TRequest : class
            where TResponse : class
        {
            if (token.Value is null || context.Options.Headers?.Any(h => h.Key == "authorization") == true)
            {
                return context;
            }

            var headers = context.Options.Headers ?? [];
            headers.Add("authorization", "Bearer " + token.Value);
            return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
        }
    }
}
