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
    private readonly PartitionedRateLimiter<string> rendezvous;
    private readonly PartitionedRateLimiter<string> rendezvousFrames;

    public RateLimits(ServerOptions options)
    {
        sends = Bucket(options.SendsPerSecondPerUser);
        anonymous = Bucket(options.AnonymousRequestsPerSecondPerConnection);
        rendezvous = Bucket(options.RendezvousPerMinutePerUser, options.RendezvousPerMinutePerUser, TimeSpan.FromMinutes(1));
        rendezvousFrames = Bucket(options.RendezvousFramesPerSecond);
    }

    internal void Send(string user) => Acquire(sends, user, "send rate limit exceeded; retry shortly");

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
