using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Protocol.Certificates;
using Parley.Scale.Infrastructure;
using Parley.Server.Cluster;
using Parley.Server.Delivery;
using Parley.Server.Hosting;
using Parley.Server.Security;
using Parley.Server.Services;
using Parley.Server.Storage.Sqlite;

namespace Parley.Scale;

/// <summary>
/// Per-user send limits hold across nodes: two nodes' RateLimits over one real Redis count one
/// user's sends together, and each falls back to its own bucket when Redis is gone.
/// </summary>
public sealed class SharedRateLimitTests
{
    [Fact]
    public async Task SendsThroughTwoNodesShareOneLimitAndFallBackToLocalWithoutRedis()
    {
        await using var redis = await RedisServer.LaunchAsync();
        var directory = Directory.CreateTempSubdirectory("parley-rate-").FullName;
        try
        {
            // One send per second: two per two-second window in Redis, a burst of two locally.
            await using var first = await NodeAsync(redis, directory, "node-a");
            await using var second = await NodeAsync(redis, directory, "node-b");

            await first.Limits.SendAsync("alice", CancellationToken.None);
            await second.Limits.SendAsync("alice", CancellationToken.None);

            // Each node alone has used one of its two local tokens; together they used the shared two.
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await first.Limits.SendAsync("alice", CancellationToken.None));
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

            // Another user is not affected.
            await second.Limits.SendAsync("bob", CancellationToken.None);

            // Without Redis each node counts alone again (its own bucket still holds a token).
            await redis.StopAsync();
            Assert.True(await Deployment.EventuallyAsync(() => Task.FromResult(first.Link.Database is null), TimeSpan.FromSeconds(30)));
            await first.Limits.SendAsync("carol", CancellationToken.None);
            await first.Limits.SendAsync("carol", CancellationToken.None);
            var local = await Assert.ThrowsAsync<RpcException>(async () => await first.Limits.SendAsync("carol", CancellationToken.None));
            Assert.Equal(StatusCode.ResourceExhausted, local.StatusCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task RendezvousAndFrameLimitsAreSharedByNodesOnTheSamePath()
    {
        await using var redis = await RedisServer.LaunchAsync();
        var directory = Directory.CreateTempSubdirectory("parley-rate-").FullName;
        try
        {
            await using var first = await NodeAsync(redis, directory, "node-a");
            await using var second = await NodeAsync(redis, directory, "node-b");

            // Ten opens or claims a minute per user, wherever they happen.
            for (var i = 0; i < 10; i++)
            {
                Assert.True(await (i % 2 == 0 ? first : second).Limits.TryRendezvousAsync("alice", CancellationToken.None));
            }

            Assert.False(await first.Limits.TryRendezvousAsync("alice", CancellationToken.None));
            Assert.False(await second.Limits.TryRendezvousAsync("alice", CancellationToken.None));
            Assert.True(await second.Limits.TryRendezvousAsync("bob", CancellationToken.None));

            // 50 frames a second through one nameplate, burst 100: the window opens at the first
            // frame and lasts two seconds, far longer than these calls take together.
            var frames = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? first : second).Limits.TryRendezvousFrameAsync(42, CancellationToken.None).AsTask()));
            Assert.All(frames, Assert.True);
            Assert.False(await first.Limits.TryRendezvousFrameAsync(42, CancellationToken.None));
            Assert.False(await second.Limits.TryRendezvousFrameAsync(42, CancellationToken.None));
            Assert.True(await second.Limits.TryRendezvousFrameAsync(43, CancellationToken.None));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<Node> NodeAsync(RedisServer redis, string directory, string id)
    {
        var options = new ServerOptions { DataDirectory = directory, Redis = redis.Address, NodeId = id, SendsPerSecondPerUser = 1 };
        var time = TimeProvider.System;
        var store = new SqliteServerStore(Path.Combine(directory, id + ".db"));
        await store.MigrateAsync(CancellationToken.None);
        var authority = CertificateAuthority.Create("Parley CA test", time.GetUtcNow());
        var certificates = new CertificateRegistry(authority, store.Users, time);
        var link = new ClusterLink(options, new MailboxSignals(), new RecipientCache(store, time), new SessionTokens(time), certificates, NullLogger<ClusterLink>.Instance);
        await link.StartAsync(CancellationToken.None);
        Assert.True(await Deployment.EventuallyAsync(() => Task.FromResult(!link.Degraded), TimeSpan.FromSeconds(30)), "the Redis link did not become healthy");
        return new Node(link, new RateLimits(options, link), certificates, authority, store);
    }

    private sealed record Node(ClusterLink Link, RateLimits Limits, CertificateRegistry Certificates, CertificateAuthority Authority, SqliteServerStore Store) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Link.DisposeAsync();
            Limits.Dispose();
            Certificates.Dispose();
            Authority.Dispose();
            await Store.DisposeAsync();
        }
    }
}
