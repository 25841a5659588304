using Grpc.Core;
using Parley.Api;
using Parley.Server.Services;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// <see cref="RecipientCache"/> over a real SQLite store, with a clock the test moves: what it
/// remembers, for how long, and what it always reads afresh.
/// </summary>
[Collection(SharedStorage.Name)]
public sealed class RecipientCacheTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task RecipientIsReadOnceALifetimeAndEachAdmittedMessageCountsInItsDepth()
    {
        await using var store = await storage.OpenFreshAsync(Engine.Sqlite);
        await AddUsersAsync(store, "alice", "bob");
        var clock = new ManualClock();
        var cache = new RecipientCache(store, clock);

        Assert.Equal(0, (await cache.GetAsync("bob", 100, None))!.Value.Queued);
        await store.Mailbox.EnqueueAsync(Envelope("alice", "bob"), None);
        cache.Admitted("bob");
        cache.Admitted("bob");

        // Remembered: the store holds 1, the cache counts the 2 it admitted.
        Assert.Equal(2, (await cache.GetAsync("bob", 100, None))!.Value.Queued);

        clock.Advance(RecipientCache.Lifetime);
        Assert.Equal(1, (await cache.GetAsync("bob", 100, None))!.Value.Queued);
    }

    [Fact]
    public async Task MailboxThatLooksFullIsReadAfreshSoARefusalRestsOnTheStoresCount()
    {
        await using var store = await storage.OpenFreshAsync(Engine.Sqlite);
        await AddUsersAsync(store, "bob");
        var cache = new RecipientCache(store, new ManualClock());

        await cache.GetAsync("bob", 2, None);
        cache.Admitted("bob");
        Assert.Equal(1, (await cache.GetAsync("bob", 2, None))!.Value.Queued);
        cache.Admitted("bob");

        // Two admitted, none stored (their writes failed, or were duplicates): the store says 0.
        Assert.Equal(0, (await cache.GetAsync("bob", 2, None))!.Value.Queued);
    }

    [Fact]
    public async Task RevocationIsSeenAtOnceOnceForgottenAndUnknownOrRevokedUsersAreNeverRemembered()
    {
        await using var store = await storage.OpenFreshAsync(Engine.Sqlite);
        var cache = new RecipientCache(store, new ManualClock());

        Assert.Null(await cache.GetAsync("bob", 100, None));
        await AddUsersAsync(store, "bob");
        Assert.False((await cache.GetAsync("bob", 100, None))!.Value.Revoked);

        await store.Users.RevokeUserAsync("bob", DateTimeOffset.UtcNow, None);
        Assert.False((await cache.GetAsync("bob", 100, None))!.Value.Revoked);
        cache.Forget("bob");
        Assert.True((await cache.GetAsync("bob", 100, None))!.Value.Revoked);
        Assert.True((await cache.GetAsync("bob", 100, None))!.Value.Revoked);
    }

    [Fact]
    public async Task SendToAUserRevokedAMomentAgoIsRefused()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        await alice.SendAsync("bob", [1]);

        await alice.Connection.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "bob" }, new Metadata { { "x-parley-admin-token", server.AdminToken } });
        var error = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("bob", [2]));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long now = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => now;

        internal void Advance(TimeSpan by) => now += by.Ticks;
    }
}
