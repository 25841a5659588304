using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Server.Delivery;
using Parley.Server.Hosting;
using Parley.Server.Security;
using Parley.Server.Services;
using StackExchange.Redis;

namespace Parley.Server.Cluster;

/// <summary>
/// This node's link to the other nodes of a deployment, through Redis pub/sub: a message stored
/// here wakes the recipient's stream wherever it is connected, a newly opened stream ends the
/// user's older stream on any node, and a revocation ends the user's sessions everywhere. Every
/// event carries a user name and nothing else of a message. Without Redis configured, the same
/// calls act on this node only. While Redis is unreachable the node is degraded: wake-ups it
/// could not publish are kept (bounded) and published on recovery, and streams re-read the
/// database every <see cref="ServerOptions.DegradedPollInterval"/> instead of waiting for one.
/// </summary>
internal sealed partial class ClusterLink : IHostedService, IAsyncDisposable
{
    internal const string ChannelName = "parley:events";

    internal const string StreamKeyPrefix = "parley:stream:";

    /// <summary>Wake-ups kept while Redis is unreachable; past this, recovery relies on every node re-reading.</summary>
    private const int MaxPendingWakeUps = 100_000;

    private static readonly RedisChannel Channel = RedisChannel.Literal(ChannelName);
    private static readonly TimeSpan MonitorInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(5);

    // A stream generation from Redis's clock (microseconds) and a counter, so that it keeps
    // growing across a Redis restart that lost the counter; unique even within one microsecond.
    // The counter only separates opens within one microsecond, so it may expire: each open
    // renews it, and the key of a user (or a node) gone quiet vanishes by itself.
    private const string GenerationScript = """
        local t = redis.call('TIME')
        local n = redis.call('INCR', KEYS[1]) % 1000
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        return (tonumber(t[1]) * 1000000 + tonumber(t[2])) * 1000 + n
        """;

    /// <summary>How long a user's stream-generation counter outlives the last stream opened.</summary>
    internal static readonly TimeSpan StreamKeyExpiry = TimeSpan.FromMinutes(10);

    private readonly ServerOptions options;
    private readonly MailboxSignals signals;
    private readonly RecipientCache recipients;
    private readonly SessionTokens tokens;
    private readonly CertificateRegistry certificates;
    private readonly ILogger<ClusterLink> logger;
    private readonly string instance;
    private readonly ConcurrentDictionary<string, byte> pendingWakeUps = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private ConnectionMultiplexer? redis;
    private Task monitor = Task.CompletedTask;
    private volatile bool healthy;
    private long pingsSent;
    private long pingsEchoed;
    private DateTimeOffset lastPing;
    private int disposed;

    public ClusterLink(ServerOptions options, MailboxSignals signals, RecipientCache recipients, SessionTokens tokens, CertificateRegistry certificates, ILogger<ClusterLink> logger)
    {
        this.options = options;
        this.signals = signals;
        this.recipients = recipients;
        this.tokens = tokens;
        this.certificates = certificates;
        this.logger = logger;

        // The node id names the node for people; this tells this process's own events apart even
        // when two nodes were given the same id by mistake.
        instance = options.NodeId + "/" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    /// <summary>
    /// The endpoints of a Redis configuration string, without its options: what may be printed
    /// or logged (the options can hold a password).
    /// </summary>
    internal static string Endpoints(string configuration) =>
        string.Join(',', configuration.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(part => !part.Contains('=', StringComparison.Ordinal)));

    /// <summary>Parses --redis; a <see cref="ServerStartException"/> with one clear line when it is not usable.</summary>
    internal static ConfigurationOptions ParseConfiguration(string redis)
    {
        try
        {
            var configuration = ConfigurationOptions.Parse(redis);
            return configuration.EndPoints.Count > 0
                ? configuration
                : throw new ServerStartException("--redis needs HOST:PORT (got no address)");
        }
        catch (ArgumentException e)
        {
            throw new ServerStartException($"--redis is not a Redis address or configuration: {e.Message}", e);
        }
    }

    /// <summary>Whether Redis is configured (several nodes).</summary>
    internal bool Configured => options.Redis is not null;

    /// <summary>
    /// Redis is configured but this node cannot use it: cross-node wake-ups are not flowing, so
    /// delivery falls back to polling.
    /// </summary>
    internal bool Degraded => Configured && !healthy;

    /// <summary>How long a Receive stream waits for a wake-up before it re-reads its mailbox.</summary>
    internal TimeSpan PollInterval => Degraded ? options.DegradedPollInterval : options.PollInterval;

    /// <summary>The Redis database for shared counters while Redis is reachable; null otherwise.</summary>
    internal IDatabase? Database => redis is { IsConnected: true } connected ? connected.GetDatabase() : null;

    /// <summary>Pub/sub for cross-node rendezvous wake-ups while Redis is reachable; null otherwise.</summary>
    internal ISubscriber? Subscriber => redis is { IsConnected: true } connected ? connected.GetSubscriber() : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Redis is null)
        {
            return;
        }

        var configuration = ParseConfiguration(options.Redis);

        // Start and keep running while Redis is down (degraded), fail commands at once rather than
        // queueing them, and retry the connection every second so that recovery is quick.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName = "parley-" + options.NodeId;
        configuration.ConnectTimeout = 2000;
        configuration.AsyncTimeout = 2000;
        configuration.SyncTimeout = 2000;
        configuration.ReconnectRetryPolicy = new LinearRetry(1000);
        redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        ServerMetrics.RedisConnected.Set(0);
        try
        {
            // Registered once: StackExchange.Redis keeps the subscription and renews it on every
            // reconnect, even when this first attempt fails because Redis is down.
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, message) => OnEvent(message)).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            LogRedisDown(logger, Endpoints(options.Redis), e.Message);
        }

        monitor = MonitorAsync(stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await monitor.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // The container may dispose it twice (as itself and as the hosted service).
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await monitor.ConfigureAwait(false);
        if (redis is not null)
        {
            await redis.DisposeAsync().ConfigureAwait(false);
        }

        stopping.Dispose();
    }

    /// <summary>Something was committed to <paramref name="recipient"/>'s mailbox: wake their stream, on any node.</summary>
    internal void MessageStored(string recipient)
    {
        signals.Notify(recipient);
        if (Configured)
        {
            Publish(recipient, ClusterEvent.WakeUp(instance, recipient));
        }
    }

    /// <summary>
    /// A generation for a new Receive stream of <paramref name="user"/>: higher than that of any
    /// stream opened before it anywhere while Redis is reachable; 0 (oldest) when it is not.
    /// </summary>
    internal async Task<long> NextStreamGenerationAsync(string user, CancellationToken cancellationToken)
    {
        if (Database is not { } database)
        {
            return 0;
        }

        try
        {
            var result = await database.ScriptEvaluateAsync(GenerationScript, [new RedisKey(StreamKeyPrefix + user)], [(long)StreamKeyExpiry.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return (long)result;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return 0;
        }
    }

    /// <summary>A Receive stream of <paramref name="user"/> opened here: end the user's older streams on the other nodes.</summary>
    internal void StreamOpened(string user, long generation)
    {
        if (Configured && generation > 0)
        {
            Publish(null, ClusterEvent.TakeOver(instance, user, generation));
        }
    }

    /// <summary>
    /// <paramref name="user"/>'s certificate was revoked or the name went to a new identity: end
    /// their sessions and streams here and on every node, and let every node rebuild its revocation list.
    /// </summary>
    internal void Revoked(string user)
    {
        EndHere(user);
        if (Configured)
        {
            Publish(null, ClusterEvent.Revoke(instance, user));
        }
    }

    /// <summary>
    /// What a revocation of <paramref name="user"/> (or their name going to a new identity) ends
    /// on this node: their sessions and streams, and what a send remembered of them.
    /// </summary>
    internal void EndHere(string user)
    {
        tokens.RevokeAll(user);
        signals.Disconnect(user);
        recipients.Forget(user);
    }

    private void Publish(string? wakeUpUser, string message)
    {
        if (redis is { IsConnected: true } connected)
        {
            try
            {
                connected.GetSubscriber().Publish(Channel, message, CommandFlags.FireAndForget);
                ServerMetrics.ClusterEventsPublished.Inc();
                return;
            }
            catch (RedisException)
            {
                // Fall through: kept for when Redis is back.
            }
        }

        if (wakeUpUser is not null && pendingWakeUps.Count < MaxPendingWakeUps)
        {
            pendingWakeUps.TryAdd(wakeUpUser, 0);
        }
    }

    private void OnEvent(RedisValue message)
    {
        if (!ClusterEvent.TryParse(message.ToString(), out var parsed))
        {
            LogBadEvent(logger);
            return;
        }

        if (parsed.Kind == ClusterEvent.Ping)
        {
            if (parsed.Origin == instance)
            {
                InterlockedMax(ref pingsEchoed, parsed.Generation);
                if (!healthy)
                {
                    SetHealthy(true);
                }
            }

            return;
        }

        if (parsed.Origin == instance)
        {
            return;
        }

        ServerMetrics.ClusterEventsReceived.WithLabels(parsed.Kind).Inc();
        switch (parsed.Kind)
        {
            case ClusterEvent.WakeUpKind:
                signals.Notify(parsed.User);
                break;
            case ClusterEvent.TakeOverKind:
                signals.TakeOver(parsed.User, parsed.Generation);
                break;
            case ClusterEvent.RevokeKind:
                EndHere(parsed.User);
                _ = RebuildRevocationListAsync();
                break;
        }
    }

    private async Task RebuildRevocationListAsync()
    {
        try
        {
            await certificates.RebuildAsync(stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The list is also rebuilt when it ages (CertificateRegistry); the database may be down.
            LogRebuildFailed(logger, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Watches the link: healthy once a ping published by this node comes back through the
    /// subscription (so the subscription itself works, not just the connection), degraded when
    /// the connection drops or a ping does not return within <see cref="PingInterval"/>.
    /// </summary>
    private async Task MonitorAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(MonitorInterval);
        try
        {
            do
            {
                var connection = redis!;
                if (!connection.IsConnected)
                {
                    if (healthy)
                    {
                        SetHealthy(false);
                    }

                    continue;
                }

                var now = DateTimeOffset.UtcNow;
                if (healthy && now - lastPing < PingInterval)
                {
                    continue;
                }

                if (healthy && Interlocked.Read(ref pingsEchoed) < Interlocked.Read(ref pingsSent))
                {
                    SetHealthy(false);
                }

                var sequence = Interlocked.Increment(ref pingsSent);
                lastPing = now;
                try
                {
                    await connection.GetSubscriber().PublishAsync(Channel, ClusterEvent.Pinging(instance, sequence)).WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Not healthy until a ping comes back.
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void SetHealthy(bool value)
    {
        healthy = value;
        ServerMetrics.RedisConnected.Set(value ? 1 : 0);
        if (value)
        {
            LogRedisUp(logger, options.NodeId);
            foreach (var user in pendingWakeUps.Keys)
            {
                pendingWakeUps.TryRemove(user, out _);
                Publish(user, ClusterEvent.WakeUp(instance, user));
            }
        }
        else
        {
            LogRedisLost(logger, options.NodeId, options.DegradedPollInterval.TotalSeconds);
        }

        // Either way every stream re-reads now: on loss so that it starts polling at the short
        // interval, on recovery because wake-ups from other nodes may have been missed.
        signals.NotifyAll();
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "redis {Redis} is unreachable at start ({Reason}); delivery polls the database until it answers")]
    private static partial void LogRedisDown(ILogger logger, string redis, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node}: redis link healthy; cross-node wake-ups flow")]
    private static partial void LogRedisUp(ILogger logger, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: redis link lost; degraded, delivery polls the database every {Seconds} s until it returns")]
    private static partial void LogRedisLost(ILogger logger, string node, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored a malformed cluster event")]
    private static partial void LogBadEvent(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not rebuild the revocation list after a revocation on another node: {Reason}")]
    private static partial void LogRebuildFailed(ILogger logger, string reason);
}
