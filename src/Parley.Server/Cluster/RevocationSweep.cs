using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Server.Delivery;
using Parley.Server.Security;
using Parley.Server.Services;
using Parley.Server.Storage;

namespace Parley.Server.Cluster;

/// <summary>
/// Catches the revocations this node did not hear about: a <c>revoke</c> event is lost while Redis
/// is unreachable. While the link is degraded, and once after it recovers, it checks every
/// <see cref="Interval"/> whether the database holds more revoked certificates than last seen and,
/// if so, ends the sessions and streams here of each connected user who is now revoked or whose
/// name went to a new identity after they signed in.
/// </summary>
internal sealed partial class RevocationSweep(
    ClusterLink cluster,
    IServerStore store,
    SessionTokens tokens,
    MailboxSignals signals,
    CertificateRegistry certificates,
    ILogger<RevocationSweep> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private int knownRevocations = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cluster.Configured)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        var wasDegraded = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var degraded = cluster.Degraded;
                if (degraded || wasDegraded)
                {
                    try
                    {
                        await SweepAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // The database may be down too; the next tick tries again.
                        LogSweepFailed(logger, e.Message);
                        continue;
                    }
                }

                wasDegraded = degraded;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        var revoked = (await store.Users.ListRevokedCertificatesAsync(cancellationToken).ConfigureAwait(false)).Count;
        if (revoked == knownRevocations)
        {
            return;
        }

        var ended = 0;
        foreach (var (name, signedInAt) in ConnectedUsers())
        {
            var user = await store.Users.GetUserAsync(name, cancellationToken).ConfigureAwait(false);
            if (user is null || user.RevokedAt is not null || (signedInAt is { } since && user.RegisteredAt > since))
            {
                cluster.EndHere(name);
                ended++;
            }
        }

        if (ended > 0)
        {
            LogEnded(logger, ended);
        }

        await certificates.RebuildAsync(cancellationToken).ConfigureAwait(false);
        knownRevocations = revoked;
    }

    /// <summary>Users with a session token or a Receive stream here, with their earliest sign-in when a token says it.</summary>
    private Dictionary<string, DateTimeOffset?> ConnectedUsers()
    {
        var users = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var (user, issued) in tokens.SignedIn())
        {
            users[user] = users.TryGetValue(user, out var seen) && seen is { } earlier && earlier < issued ? earlier : issued;
        }

        foreach (var user in signals.ListeningUsers())
        {
            users.TryAdd(user, null);
        }

        return users;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ended the sessions of {Count} users revoked on another node while redis was unreachable")]
    private static partial void LogEnded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "revocation sweep failed: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
