using System.Threading.RateLimiting;
using Grpc.Core;
using Parley.Server.Cluster;
using Parley.Server.Hosting;
using StackExchange.Redis;

namespace Parley.Server.Security;

/// <summary>
/// Token buckets per user (sends, rendezvous), per nameplate (rendezvous frames) and per
/// connection (unauthenticated calls). A caller over its limit is refused at once (no queueing),
/// and nobody else is slowed down. With several nodes (Redis configured and reachable) the limits
/// of things that can be spread over nodes — a user's sends and rendezvous, a nameplate's frames,
/// whose two sides may be on two nodes — are counted in Redis in a fixed window shared by every
/// node (the bucket's burst over the window, the same rate on average), so that spreading over
/// nodes does not multiply the limit; while Redis is unreachable each node counts locally. A
/// connection lives on one node, so its limit is always local.
/// </summary>
internal sealed class RateLimits : IDisposable
{
    internal const string SendKeyPrefix = "parley:rate:send:";
    internal const string RendezvousKeyPrefix = "parley:rate:rdv:";
    internal const string RendezvousFrameKeyPrefix = "parley:rate:rdvframe:";

    private const string WindowScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    private const string SendRefusal = "send rate limit exceeded; retry shortly";

    private readonly SharedLimit sends;
    private readonly SharedLimit rendezvous;
    private readonly SharedLimit rendezvousFrames;
    private readonly PartitionedRateLimiter<string> anonymous;
    private readonly ClusterLink cluster;

    public RateLimits(ServerOptions options, ClusterLink cluster)
    {
        // Sends and frames: a bucket of twice the rate refilled every second, so two seconds of
        // the rate in Redis; rendezvous: the per-minute figure as burst and as one-minute window.
        var perSecond = TimeSpan.FromSeconds(1);
        var twoSeconds = TimeSpan.FromSeconds(2);
        sends = new SharedLimit(SendKeyPrefix, Bucket(options.SendsPerSecondPerUser * 2, options.SendsPerSecondPerUser, perSecond), twoSeconds, Math.Max(1, options.SendsPerSecondPerUser) * 2);
        rendezvous = new SharedLimit(RendezvousKeyPrefix, Bucket(options.RendezvousPerMinutePerUser, options.RendezvousPerMinutePerUser, TimeSpan.FromMinutes(1)), TimeSpan.FromMinutes(1), Math.Max(1, options.RendezvousPerMinutePerUser));
        rendezvousFrames = new SharedLimit(RendezvousFrameKeyPrefix, Bucket(options.RendezvousFramesPerSecond * 2, options.RendezvousFramesPerSecond, perSecond), twoSeconds, Math.Max(1, options.RendezvousFramesPerSecond) * 2);
        anonymous = Bucket(options.AnonymousRequestsPerSecondPerConnection * 2, options.AnonymousRequestsPerSecondPerConnection, perSecond);
        this.cluster = cluster;
    }

    internal async ValueTask SendAsync(string user, CancellationToken cancellationToken)
    {
        if (!await TryAcquireAsync(sends, user, cancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, SendRefusal));
        }
    }

    /// <summary>One rendezvous opened or claimed by <paramref name="user"/>, on any node; false when over the limit.</summary>
    internal ValueTask<bool> TryRendezvousAsync(string user, CancellationToken cancellationToken) =>
        TryAcquireAsync(rendezvous, user, cancellationToken);

    /// <summary>One frame relayed through <paramref name="nameplate"/>, from either side on any node; false when over the limit.</summary>
    internal ValueTask<bool> TryRendezvousFrameAsync(uint nameplate, CancellationToken cancellationToken) =>
        TryAcquireAsync(rendezvousFrames, nameplate.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);

    internal void Anonymous(ServerCallContext context) => Acquire(anonymous, Caller.ConnectionId(context), "too many requests on this connection; retry shortly");

    /// <summary>
    /// The one shared-window path: counted in Redis (INCR, expiring with the window) while it is
    /// reachable, in this node's own bucket otherwise.
    /// </summary>
    private async ValueTask<bool> TryAcquireAsync(SharedLimit limit, string key, CancellationToken cancellationToken)
    {
        if (cluster.Database is { } database)
        {
            try
            {
                var count = (long)await database.ScriptEvaluateAsync(
                    WindowScript,
                    [new RedisKey(limit.KeyPrefix + key)],
                    [(long)limit.Window.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false);
                return count <= limit.PerWindow;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Redis went away between the check and the call: this node counts alone.
            }
        }

        using var lease = limit.Local.AttemptAcquire(key);
        return lease.IsAcquired;
    }

    private static void Acquire(PartitionedRateLimiter<string> limiter, string key, string message)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (!lease.IsAcquired)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, message));
        }
    }

    private static PartitionedRateLimiter<string> Bucket(int burst, int perPeriod, TimeSpan period) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = Math.Max(1, perPeriod),
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        sends.Local.Dispose();
        rendezvous.Local.Dispose();
        rendezvousFrames.Local.Dispose();
        anonymous.Dispose();
    }

    /// <summary>A limit with its Redis key prefix and window, and the local bucket used without Redis.</summary>
    private sealed record SharedLimit(string KeyPrefix, PartitionedRateLimiter<string> Local, TimeSpan Window, int PerWindow);
}
