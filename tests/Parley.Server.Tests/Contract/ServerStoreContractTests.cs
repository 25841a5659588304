using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Contract;

/// <summary>IServerStore: migrations, health, and durability across a restart, on every engine.</summary>
[Collection(SharedStorage.Name)]
public sealed class ServerStoreContractTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Migrate_AgainAndOnReopen_IsHarmless(Engine engine)
    {
        var database = await storage.CreateDatabaseAsync(engine);
        await using (var store = await database.OpenAsync())
        {
            await AddUsersAsync(store, "alice");
            await store.MigrateAsync(None);
            await store.MigrateAsync(None);
        }

        await using var reopened = await database.OpenAsync();
        Assert.NotNull(await reopened.Users.GetUserAsync("alice", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task IsHealthy_WhenOpen_IsTrue(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        Assert.True(await store.IsHealthyAsync(None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Data_SurvivesClosingAndReopening(Engine engine)
    {
        var database = await storage.CreateDatabaseAsync(engine);
        var invite = Bytes(32);
        var envelope = Envelope("alice", "bob", body: "kept");
        var revokedAt = Now();
        long sequence;
        await using (var store = await database.OpenAsync())
        {
            await AddUsersAsync(store, "alice", "bob");
            await store.Users.RevokeUserAsync("alice", revokedAt, None);
            await store.Users.CreateInviteAsync(invite, revokedAt.AddDays(1), None);
            await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk"), None);
            await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 2, Wire("last-resort"), None);
            await store.PreKeys.AddOneTimePreKeysAsync("bob", [(3, Wire("otk3")), (4, Wire("otk4"))], None);
            await store.PreKeys.AddOneTimeKemPreKeysAsync("bob", [(5, Wire("kem5"))], None);
            Assert.True(await store.Mailbox.EnqueueAsync(envelope, None));
            sequence = (await store.Mailbox.PeekAsync("bob", 0, 1, None))[0].Sequence;
            await store.PreKeys.TakeBundleAsync("bob", None);
        }

        await using (var store = await database.OpenAsync())
        {
            Assert.Equal(["alice", "bob"], (await store.Users.ListUsersAsync(None)).Select(u => u.Name));
            Assert.Equal(revokedAt, (await store.Users.GetUserAsync("alice", None))!.RevokedAt);
            Assert.Equal((1, 0), await store.PreKeys.CountPreKeysAsync("bob", None));
            var stored = Assert.Single(await store.Mailbox.PeekAsync("bob", 0, 10, None));
            Assert.Equal(envelope.MessageId, stored.MessageId);
            Assert.Equal(sequence, stored.Sequence);

            // Still idempotent after the restart, and the sequence keeps growing.
            Assert.False(await store.Mailbox.EnqueueAsync(envelope, None));
            Assert.True(await store.Mailbox.EnqueueAsync(Envelope("alice", "bob"), None));
            Assert.True((await store.Mailbox.PeekAsync("bob", sequence, 10, None))[0].Sequence > sequence);
            Assert.True(await store.Users.TryConsumeInviteAsync(invite, revokedAt, None));
        }
    }
}
