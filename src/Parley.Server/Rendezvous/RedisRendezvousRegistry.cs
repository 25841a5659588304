using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Parley.Server.Cluster;
using Parley.Server.Hosting;
using StackExchange.Redis;

namespace Parley.Server.Rendezvous;

/// <summary>
/// <see cref="IRendezvousRegistry"/> of a deployment of several nodes (Redis configured): a
/// nameplate opened on one node can be claimed on any other, and the two sides' frames pass
/// through Redis (<see cref="RedisRendezvousSide"/>). Allocation and claim are Lua scripts, so two
/// nodes never hand out or pair the same nameplate. While Redis is unreachable this node falls
/// back to its own <see cref="InMemoryRendezvousRegistry"/>: an invitation opened then works when
/// both sides reach this node, and a claim of any other gets a clear UNAVAILABLE.
/// </summary>
internal sealed partial class RedisRendezvousRegistry(
    ServerOptions options,
    ClusterLink cluster,
    InMemoryRendezvousRegistry local,
    TimeProvider time,
    ILogger<RedisRendezvousRegistry> logger) : IRendezvousRegistry
{
    /// <summary>Random picks in one range before the range grows.</summary>
    private const int TriesPerRange = 3;

    // HSET + PEXPIRE on a key that does not exist: the SET NX PX of a hash. -1: the owner has too
    // many waiting; 0: the nameplate is taken (live or burnt); otherwise when it expires (ms).
    private const string OpenScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local expires = now + tonumber(ARGV[3])
        redis.call('HSET', KEYS[1], 'state', 'waiting', 'owner', ARGV[1], 'expires', expires)
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]))
        redis.call('ZADD', KEYS[2], expires, ARGV[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        return expires
        """;

    // The one claim: paired (and `paired` in both sides' streams) or why not, as RendezvousStatus names it.
    private const string ClaimScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state then return 'unknown_nameplate' end
        if state == 'waiting' then
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local waiting = ARGV[4] .. redis.call('HGET', KEYS[1], 'owner')
          redis.call('ZREM', waiting, ARGV[2])
          if now >= tonumber(redis.call('HGET', KEYS[1], 'expires')) then
            redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', 'expired')
            return 'expired'
          end
          redis.call('HSET', KEYS[1], 'state', 'paired', 'claimer', ARGV[1], 'seen_a', now, 'seen_b', now)
          redis.call('XADD', KEYS[2], '*', 'k', 'paired')
          redis.call('XADD', KEYS[3], '*', 'k', 'paired')
          for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
          redis.call('PUBLISH', KEYS[2], '')
          return 'paired'
        end
        if state == 'ended' and redis.call('HGET', KEYS[1], 'reason') == 'expired' then return 'expired' end
        return 'already_claimed'
        """;

    private TimeSpan BurntMemory => options.RendezvousExpiry > InMemoryRendezvousRegistry.MinimumBurntMemory ? options.RendezvousExpiry : InMemoryRendezvousRegistry.MinimumBurntMemory;

    public async ValueTask<IRendezvousRoom> OpenAsync(string owner, CancellationToken cancellationToken)
    {
        if (cluster.Database is not { } database)
        {
            LogFallback(logger, owner);
            return local.Open(owner);
        }

        try
        {
            var range = 999;
            for (var attempt = 1; ; attempt++)
            {
                var nameplate = (uint)RandomNumberGenerator.GetInt32(1, range + 1);
                var keys = new RedisRendezvousKeys(nameplate);
                var expires = (long)await database.ScriptEvaluateAsync(
                    OpenScript,
                    [keys.Room, RedisRendezvousKeys.Waiting(owner)],
                    [owner, keys.Number, (long)options.RendezvousExpiry.TotalMilliseconds, (long)BurntMemory.TotalMilliseconds, options.RendezvousWaitingPerUser]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (expires > 0)
                {
                    return RedisRendezvousSide.Opened(cluster, nameplate, DateTimeOffset.FromUnixTimeMilliseconds(expires), options.RendezvousExpiry, BurntMemory, time, logger);
                }

                if (expires < 0)
                {
                    throw RendezvousStatus.RateLimited($"you already have {options.RendezvousWaitingPerUser} unclaimed invitations; wait for one to be used or to expire");
                }

                // Taken: short numbers while they are mostly free, longer ones once they are not.
                if (attempt % TriesPerRange == 0)
                {
                    if (range >= Protocol.Pake.InviteCode.MaxNameplate)
                    {
                        throw RendezvousStatus.RateLimited("no nameplate is free; retry shortly");
                    }

                    range = (int)Math.Min((range * 10L) + 9, Protocol.Pake.InviteCode.MaxNameplate);
                }
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogFallback(logger, owner);
            return local.Open(owner);
        }
    }

    public async ValueTask<IRendezvousRoom> ClaimAsync(uint nameplate, string claimer, CancellationToken cancellationToken)
    {
        if (cluster.Database is not { } database)
        {
            return ClaimLocally(nameplate, claimer);
        }

        var keys = new RedisRendezvousKeys(nameplate);
        string outcome;
        try
        {
            outcome = (string)(await database.ScriptEvaluateAsync(
                ClaimScript,
                [keys.Room, keys.InboxOf(RendezvousSide.A), keys.InboxOf(RendezvousSide.B)],
                [claimer, keys.Number, (long)BurntMemory.TotalMilliseconds, RedisRendezvousKeys.WaitingPrefix]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return ClaimLocally(nameplate, claimer);
        }

        return outcome switch
        {
            "paired" => RedisRendezvousSide.Claimed(cluster, nameplate, BurntMemory, logger),
            RendezvousStatus.ExpiredReason => throw RendezvousStatus.Expired(nameplate),
            RendezvousStatus.AlreadyClaimedReason => throw RendezvousStatus.AlreadyClaimed(nameplate),

            // Perhaps opened on this node while Redis was unreachable.
            _ => local.Claim(nameplate, claimer),
        };
    }

    /// <summary>Redis unreachable: only an invitation opened on this node can be joined; any other gets a clear answer, not "unknown".</summary>
    private RendezvousRoom ClaimLocally(uint nameplate, string claimer)
    {
        try
        {
            return local.Claim(nameplate, claimer);
        }
        catch (RpcException e) when (e.Trailers.GetValue(RendezvousStatus.TrailerKey) == RendezvousStatus.UnknownNameplateReason)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "this server node cannot reach the other nodes (redis is unreachable), so it cannot find that invitation; retry shortly"));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "redis unreachable: the invitation of {Owner} is held on this node only (both sides must reach this node)")]
    private static partial void LogFallback(ILogger logger, string owner);
}
