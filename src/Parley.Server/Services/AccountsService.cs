using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Protocol;
using Parley.Protocol.Identity;
using Parley.Protocol.Wire;
using Parley.Server.Cluster;
using Parley.Server.Hosting;
using Parley.Server.Security;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>Challenges, registration, authentication and certificate lookups.</summary>
internal sealed partial class AccountsService(
    ServerOptions options,
    IServerStore store,
    ChallengeStore challenges,
    SessionTokens tokens,
    ClusterLink cluster,
    CertificateRegistry certificates,
    RateLimits limits,
    TimeProvider time,
    ILogger<AccountsService> logger) : Accounts.AccountsBase
{
    public override Task<ChallengeResponse> Challenge(ChallengeRequest request, ServerCallContext context)
    {
        limits.Anonymous(context);
        return Task.FromResult(new ChallengeResponse
        {
            Challenge = ByteString.CopyFrom(challenges.Issue()),
            ServerName = options.ServerName,
        });
    }

    public override async Task<RegisterResponse> Register(RegisterRequest request, ServerCallContext context)
    {
        limits.Anonymous(context);
        if (!UserName.TryNormalize(request.Name, out var name))
        {
            throw RpcErrors.InvalidArgument($"invalid user name \"{request.Name}\": use 1-{UserName.MaxLength} characters a-z, 0-9, '.', '_', '-', starting with a letter");
        }

        var identity = ParseIdentity(request.Identity);
        if (!challenges.TryConsume(request.Challenge.Span))
        {
            throw RpcErrors.Unauthenticated("challenge unknown, used or expired; request a new one");
        }

        // The signature covers the name exactly as the client sent it; it normalises deterministically.
        if (!identity.Verify(AuthenticationMessages.Register(options.ServerName, request.Name, request.Challenge.Span), request.Signature.Span))
        {
            throw RpcErrors.Unauthenticated("registration signature does not verify for this identity");
        }

        var existing = await store.Users.GetUserAsync(name, context.CancellationToken).ConfigureAwait(false);
        var sameIdentity = existing is not null && existing.SigningKey.AsSpan().SequenceEqual(identity.SigningKey);
        if (existing is { RevokedAt: null })
        {
            // A retry by the same identity (its first answer was lost) gets the same certificate.
            return sameIdentity ? Registered(existing.CertificatePem) : throw RpcErrors.AlreadyExists($"the name \"{name}\" is taken");
        }

        // A revoked identity stays revoked, under any name: were it certified again, contacts who
        // still have it pinned would accept it without a key-change warning. Only a new identity
        // (a new device) may take a revoked name.
        if (sameIdentity || await store.Users.IsIdentityRevokedAsync(identity.SigningKey.ToArray(), context.CancellationToken).ConfigureAwait(false))
        {
            throw RpcErrors.PermissionDenied("this identity was revoked; register with a new identity");
        }

        if (options.Registration == RegistrationPolicy.Invite)
        {
            var hash = InviteCodes.Hash(request.Invite);
            if (hash is null || !await store.Users.TryConsumeInviteAsync(hash, time.GetUtcNow(), context.CancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.PermissionDenied("this server registers by invitation; the invite is missing, used or expired");
            }
        }

        var certificate = certificates.Issue(name, identity.SigningKey);
        var record = new UserRecord(
            name,
            identity.SigningKey.ToArray(),
            identity.DhKey.ToArray(),
            identity.DhKeySignature.ToArray(),
            certificate.Pem,
            certificate.SerialHex,
            time.GetUtcNow(),
            RevokedAt: null);
        if (existing is null)
        {
            if (!await store.Users.TryCreateUserAsync(record, context.CancellationToken).ConfigureAwait(false))
            {
                throw RpcErrors.AlreadyExists($"the name \"{name}\" is taken");
            }

            LogRegistered(logger, name, identity.Fingerprint);
            return Registered(certificate.Pem);
        }

        // The name is revoked (a lost device): the new identity takes it over. The old certificate
        // stays on the revocation list; the old prekeys go; messages queued for the old identity
        // stay and reach the new client, which cannot decrypt them. False: someone else was faster.
        if (!await store.Users.TryReplaceRevokedUserAsync(record, context.CancellationToken).ConfigureAwait(false))
        {
            throw RpcErrors.AlreadyExists($"the name \"{name}\" is taken");
        }

        // No session of the name may outlive the identity it was opened by (RevokeUser already
        // ended them on this node; this covers one that slipped in while it ran).
        cluster.Revoked(name);
        LogReregistered(logger, name, identity.Fingerprint, existing.CertificateSerial);
        return Registered(certificate.Pem);
    }

    public override async Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        limits.Anonymous(context);
        if (!UserName.TryNormalize(request.Name, out var name))
        {
            throw RpcErrors.Unauthenticated("unknown user");
        }

        if (!challenges.TryConsume(request.Challenge.Span))
        {
            throw RpcErrors.Unauthenticated("challenge unknown, used or expired; request a new one");
        }

        var user = await store.Users.GetUserAsync(name, context.CancellationToken).ConfigureAwait(false)
            ?? throw RpcErrors.Unauthenticated("unknown user");
        if (user.RevokedAt is not null)
        {
            throw RpcErrors.PermissionDenied($"the certificate of \"{name}\" is revoked");
        }

        var identity = StoredIdentity(user);
        if (!identity.Verify(AuthenticationMessages.Authenticate(options.ServerName, request.Challenge.Span), request.Signature.Span))
        {
            LogBadSignature(logger, name);
            throw RpcErrors.Unauthenticated("authentication signature does not verify");
        }

        var (token, expires) = tokens.Issue(name, Caller.ConnectionId(context));
        return new AuthenticateResponse { Token = token, ExpiresUnixSeconds = expires.ToUnixTimeSeconds() };
    }

    public override async Task<GetCertificateResponse> GetCertificate(GetCertificateRequest request, ServerCallContext context)
    {
        var user = await FindUserAsync(store, request.Name, context.CancellationToken).ConfigureAwait(false);
        return new GetCertificateResponse { CertificatePem = user.CertificatePem, Identity = StoredIdentity(user).ToWire() };
    }

    public override async Task<GetRevocationListResponse> GetRevocationList(GetRevocationListRequest request, ServerCallContext context)
    {
        var list = await certificates.GetRevocationListAsync(context.CancellationToken).ConfigureAwait(false);
        return new GetRevocationListResponse { CrlPem = list.Pem };
    }

    internal static async Task<UserRecord> FindUserAsync(IServerStore store, string requested, CancellationToken cancellationToken)
    {
        var name = RequireUserName(requested);
        return await store.Users.GetUserAsync(name, cancellationToken).ConfigureAwait(false) ?? throw UnknownUser(name);
    }

    /// <summary>The stored form of a name a caller asked for; INVALID_ARGUMENT when it cannot be a user name.</summary>
    internal static string RequireUserName(string requested) =>
        UserName.TryNormalize(requested, out var name) ? name : throw RpcErrors.InvalidArgument($"invalid user name \"{requested}\"");

    internal static RpcException UnknownUser(string name) => RpcErrors.NotFound($"no user \"{name}\" on this server");

    /// <summary>A stored identity was verified at registration; rebuild it without a second check.</summary>
    internal static IdentityKey StoredIdentity(UserRecord user) => IdentityKey.FromWire(new PublicIdentity
    {
        SigningKey = ByteString.CopyFrom(user.SigningKey),
        DhKey = ByteString.CopyFrom(user.DhKey),
        DhKeySignature = ByteString.CopyFrom(user.DhKeySignature),
    });

    private RegisterResponse Registered(string certificatePem) => new()
    {
        CertificatePem = certificatePem,
        CaCertificatePem = certificates.Authority.RootCertificatePem,
    };

    private static IdentityKey ParseIdentity(PublicIdentity? wire)
    {
        if (wire is null)
        {
            throw RpcErrors.InvalidArgument("identity missing");
        }

        try
        {
            return IdentityKey.FromWire(wire);
        }
        catch (ParleyProtocolException e)
        {
            throw RpcErrors.InvalidArgument($"identity rejected: {e.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "registered {User} with identity {Fingerprint}")]
    private static partial void LogRegistered(ILogger logger, string user, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "registered {User} again with the new identity {Fingerprint}; its revoked certificate {RevokedSerial} stays revoked")]
    private static partial void LogReregistered(ILogger logger, string user, string fingerprint, string revokedSerial);

    [LoggerMessage(Level = LogLevel.Warning, Message = "authentication of {User} failed: bad signature")]
    private static partial void LogBadSignature(ILogger logger, string user);
}
