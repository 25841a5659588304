using Grpc.Core;

namespace Parley.Server.Security;

/// <summary>Resolves the authenticated user of a gRPC call from its bearer token and connection.</summary>
internal sealed class Caller(SessionTokens tokens)
{
    /// <summary>The caller's user name; throws UNAUTHENTICATED when the call carries no valid token for this connection.</summary>
    internal string Require(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        const string prefix = "Bearer ";
        if (header is null || !header.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "authenticate first (Accounts.Challenge, then Accounts.Authenticate)"));
        }

        var user = tokens.Resolve(header[prefix.Length..], ConnectionId(context));
        return user ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "token unknown, expired, revoked or issued on another connection"));
    }

    internal static string ConnectionId(ServerCallContext context) => context.GetHttpContext().Connection.Id;
}
