using Grpc.Core;

namespace Parley.Server.Services;

/// <summary>The statuses the services answer with, one line each, for clients to show as they are.</summary>
internal static class RpcErrors
{
    internal static RpcException InvalidArgument(string message) => Refuse(StatusCode.InvalidArgument, "invalid_argument", message);

    internal static RpcException NotFound(string message) => Refuse(StatusCode.NotFound, "not_found", message);

    internal static RpcException AlreadyExists(string message) => Refuse(StatusCode.AlreadyExists, "already_exists", message);

    internal static RpcException Unauthenticated(string message) => Refuse(StatusCode.Unauthenticated, "unauthenticated", message);

    internal static RpcException PermissionDenied(string message) => Refuse(StatusCode.PermissionDenied, "permission_denied", message);

    internal static RpcException FailedPrecondition(string message) => Refuse(StatusCode.FailedPrecondition, "failed_precondition", message);

    internal static RpcException ResourceExhausted(string message) => Refuse(StatusCode.ResourceExhausted, "resource_exhausted", message);

    internal static RpcException Aborted(string message) => Refuse(StatusCode.Aborted, "aborted", message);

    private static RpcException Refuse(StatusCode code, string reason, string message)
    {
        Hosting.ServerMetrics.Refused.WithLabels(reason).Inc();
        return new RpcException(new Status(code, message));
    }
}
