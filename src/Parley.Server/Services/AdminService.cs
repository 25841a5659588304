using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Parley.Api;
using Parley.Server.Cluster;
using Parley.Server.Security;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>Operator commands, allowed only with the admin token from the server's data directory.</summary>
internal sealed partial class AdminService(
    IServerStore store,
    AdminToken adminToken,
    ClusterLink cluster,
    CertificateRegistry certificates,
    TimeProvider time,
    ILogger<AdminService> logger) : Admin.AdminBase
{
    internal const string TokenHeader = "x-parley-admin-token";

    private static readonly TimeSpan InviteLifetime = TimeSpan.FromDays(7);

    public override async Task<RevokeUserResponse> RevokeUser(RevokeUserRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        var user = await AccountsService.FindUserAsync(store, request.Name, context.CancellationToken).ConfigureAwait(false);
        if (!await store.Users.RevokeUserAsync(user.Name, time.GetUtcNow(), context.CancellationToken).ConfigureAwait(false))
        {
            throw RpcErrors.FailedPrecondition($"\"{user.Name}\" is already revoked");
        }

        cluster.Revoked(user.Name);
        await certificates.RebuildAsync(context.CancellationToken).ConfigureAwait(false);
        LogRevoked(logger, user.Name, user.CertificateSerial);
        return new RevokeUserResponse { Serial = user.CertificateSerial };
    }

    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        var response = new ListUsersResponse();
        foreach (var user in await store.Users.ListUsersAsync(context.CancellationToken).ConfigureAwait(false))
        {
            response.Users.Add(new UserInfo
            {
                Name = user.Name,
                Fingerprint = Convert.ToHexStringLower(SHA256.HashData(user.SigningKey)),
                CertificateSerial = user.CertificateSerial,
                Revoked = user.RevokedAt is not null,
                RegisteredUnixSeconds = user.RegisteredAt.ToUnixTimeSeconds(),
                QueuedMessages = (uint)await store.Mailbox.CountQueuedAsync(user.Name, context.CancellationToken).ConfigureAwait(false),
            });
        }

        return response;
    }

    public override async Task<CreateInviteResponse> CreateInvite(CreateInviteRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        var code = InviteCodes.Create();
        await store.Users.CreateInviteAsync(InviteCodes.Hash(code)!, time.GetUtcNow() + InviteLifetime, context.CancellationToken).ConfigureAwait(false);
        return new CreateInviteResponse { Invite = code };
    }

    private void RequireAdmin(ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(TokenHeader);
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(adminToken.Value)))
        {
            throw RpcErrors.PermissionDenied("admin token missing or wrong");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "revoked {User} (certificate {Serial})")]
    private static partial void LogRevoked(ILogger logger, string user, string serial);
}

/// <summary>The admin token, as a service dependency.</summary>
internal sealed record AdminToken(string Value);
