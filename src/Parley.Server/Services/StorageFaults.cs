using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Parley.Server.Services;

/// <summary>
/// Turns a storage failure that is not the caller's fault (database unreachable or restarting,
/// disk full, database busy) into UNAVAILABLE with one clear line, so that clients retry (their
/// outbox keeps the message) instead of seeing "Exception was thrown by handler". Nothing was
/// acknowledged for the failed call, so nothing is lost.
/// </summary>
internal sealed partial class StorageFaults(ILogger<StorageFaults> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Describe(e) is { } reason)
        {
            throw Unavailable(context, reason, e);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Describe(e) is { } reason)
        {
            throw Unavailable(context, reason, e);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Describe(e) is { } reason)
        {
            throw Unavailable(context, reason, e);
        }
    }

    /// <summary>The line a client sees for a storage failure; null for anything else (which stays a bug to log).</summary>
    internal static string? Describe(Exception e) => e switch
    {
        SqliteException { SqliteErrorCode: 13 } => "the server's disk is full; retry later", // SQLITE_FULL
        SqliteException { SqliteErrorCode: 5 or 6 } => "the server's database is busy; retry shortly", // SQLITE_BUSY, SQLITE_LOCKED
        SqliteException { SqliteErrorCode: 10 } => "the server's database cannot be written; retry later", // SQLITE_IOERR
        IOException when e.HResult == 28 || e.HResult == unchecked((int)0x80070070) => "the server's disk is full; retry later", // ENOSPC
        NpgsqlException { IsTransient: true } => "the server's database is unavailable; retry shortly",
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } => "the server's database is unavailable; retry shortly",
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53100" } => "the server's database is unavailable; retry shortly", // shutdown, crash, starting, disk full
        _ => null,
    };

    /// <summary>Logs and counts a storage fault answered UNAVAILABLE (by this interceptor or, per message, by a streaming call).</summary>
    internal void Log(ServerCallContext context, string reason, Exception e)
    {
        LogStorageFault(logger, context.Method, reason, e);
        Hosting.ServerMetrics.Refused.WithLabels("unavailable").Inc();
    }

    private RpcException Unavailable(ServerCallContext context, string reason, Exception e)
    {
        Log(context, reason, e);
        return new RpcException(new Status(StatusCode.Unavailable, reason));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method}: storage failure, answered UNAVAILABLE ({Reason})")]
    private static partial void LogStorageFault(ILogger logger, string method, string reason, Exception exception);
}
