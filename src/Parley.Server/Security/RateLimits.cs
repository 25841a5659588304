using System.Threading.RateLimiting;
using Grpc.Core;
using Parley.Server.Hosting;

namespace Parley.Server.Security;

/// <summary>
/// Token buckets per user (sends) and per connection (unauthenticated calls). A caller over its
/// limit gets RESOURCE_EXHAUSTED at once (no queueing), and nobody else is slowed down.
/// </summary>
internal sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> sends;
    private readonly PartitionedRateLimiter<string> anonymous;

    public RateLimits(ServerOptions options)
    {
        sends = Bucket(options.SendsPerSecondPerUser);
        anonymous = Bucket(options.AnonymousRequestsPerSecondPerConnection);
    }

    internal void Send(string user) => Acquire(sends, user, "send rate limit exceeded; retry shortly");

    internal void Anonymous(ServerCallContext context) => Acquire(anonymous, Caller.ConnectionId(context), "too many requests on this connection; retry shortly");

    private static void Acquire(PartitionedRateLimiter<string> limiter, string key, string message)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (!lease.IsAcquired)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, message));
        }
    }

    private static PartitionedRateLimiter<string> Bucket(int perSecond) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, perSecond * 2),
            TokensPerPeriod = Math.Max(1, perSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        sends.Dispose();
        anonymous.Dispose();
    }
}
