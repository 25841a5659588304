using System.Threading.RateLimiting;
using Grpc.Core;
using Parley.Server.Cluster;
using Parley.Server.Hosting;
using StackExchange.Redis;

namespace Parley.Server.Security;

/// <summary>
/// Token buckets per user (sends) and per connection (unauthenticated calls). A caller over its
/// limit gets RESOURCE_EXHAUSTED at once (no queueing), and nobody else is slowed down. With
/// several nodes (Redis configured and reachable) a user's sends are counted in Redis in a fixed
/// two-second window shared by every node (the bucket's burst, the same rate on average), so that
/// spreading sends over nodes does not multiply the limit; while Redis is unreachable each node counts locally. A connection lives on one node,
/// so its limit is always local.
/// </summary>
internal sealed class RateLimits : IDisposable
{
    internal const string SendKeyPrefix = "parley:rate:send:";

    private const string WindowScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    private const string SendRefusal = "send rate limit exceeded; retry shortly";

    private static readonly TimeSpan SharedWindow = TimeSpan.FromSeconds(2);

    private readonly PartitionedRateLimiter<string> sends;
    private readonly PartitionedRateLimiter<string> anonymous;
    private readonly PartitionedRateLimiter<string> rendezvous;
    private readonly PartitionedRateLimiter<string> rendezvousFrames;
    private readonly ClusterLink cluster;
    private readonly int sendsPerWindow;

    public RateLimits(ServerOptions options, ClusterLink cluster)
    {
        sends = Bucket(options.SendsPerSecondPerUser);
        anonymous = Bucket(options.AnonymousRequestsPerSecondPerConnection);
        rendezvous = Bucket(options.RendezvousPerMinutePerUser, options.RendezvousPerMinutePerUser, TimeSpan.FromMinutes(1));
        rendezvousFrames = Bucket(options.RendezvousFramesPerSecond);
        this.cluster = cluster;
        sendsPerWindow = Math.Max(1, options.SendsPerSecondPerUser) * (int)SharedWindow.TotalSeconds;
    }

    internal async ValueTask SendAsync(string user, CancellationToken cancellationToken)
    {
        if (cluster.Database is { } database)
        {
            long count;
            try
            {
                count = (long)await database.ScriptEvaluateAsync(
                    WindowScript,
                    [new RedisKey(SendKeyPrefix + user)],
                    [(long)SharedWindow.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Acquire(sends, user, SendRefusal);
                return;
            }

            if (count > sendsPerWindow)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, SendRefusal));
            }

            return;
        }

        Acquire(sends, user, SendRefusal);
    }

    internal void Anonymous(ServerCallContext context) => Acquire(anonymous, Caller.ConnectionId(context), "too many requests on this connection; retry shortly");

    /// <summary>One rendezvous opened or claimed by <paramref name="user"/>; false when over the limit.</summary>
    internal bool TryRendezvous(string user) => TryAcquire(rendezvous, user);

    /// <summary>One frame relayed through <paramref name="nameplate"/>; false when over the limit.</summary>
    internal bool TryRendezvousFrame(uint nameplate) => TryAcquire(rendezvousFrames, nameplate.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static bool TryAcquire(PartitionedRateLimiter<string> limiter, string key)
    {
        using var lease = limiter.AttemptAcquire(key);
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

    private static PartitionedRateLimiter<string> Bucket(int perSecond) => Bucket(perSecond * 2, perSecond, TimeSpan.FromSeconds(1));

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
        sends.Dispose();
        anonymous.Dispose();
        rendezvous.Dispose();
        rendezvousFrames.Dispose();
    }
}
