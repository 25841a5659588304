using System.Collections.Concurrent;
using System.Data.Common;
using Parley.Server.Storage;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Contract;

/// <summary>IPreKeyDirectoryStore: uploads, bundles, and one-time keys handed out at most once, on every engine.</summary>
[Collection(SharedStorage.Name)]
public sealed class PreKeyDirectoryStoreContractTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_TakesEachOneTimeKeyOnce_ThenLastResortKemKeyRepeatedly(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk1"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 100, Wire("last-resort"), None);
        await store.PreKeys.AddOneTimeKemPreKeysAsync("bob", [(10, Wire("kem10")), (11, Wire("kem11"))], None);
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [(20, Wire("otk20")), (21, Wire("otk21"))], None);
        Assert.Equal((2, 2), await store.PreKeys.CountPreKeysAsync("bob", None));

        var bundles = new List<StoredBundle>();
        for (var i = 0; i < 4; i++)
        {
            bundles.Add((await store.PreKeys.TakeBundleAsync("bob", None))!);
        }

        Assert.All(bundles, b => Assert.Equal("spk1", Label(b.SignedPreKey)));
        Assert.Equal(["kem10", "kem11", "last-resort", "last-resort"], bundles.Select(b => Label(b.KemPreKey)).Order());
        Assert.Equal(["(none)", "(none)", "otk20", "otk21"], bundles.Select(b => Label(b.OneTimePreKey)).Order());
        Assert.Equal((0, 0), await store.PreKeys.CountPreKeysAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_WithoutSignedPreKey_IsNullAndTakesNothing(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 100, Wire("last-resort"), None);
        await store.PreKeys.AddOneTimeKemPreKeysAsync("bob", [(10, Wire("kem10"))], None);
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [(20, Wire("otk20"))], None);

        Assert.Null(await store.PreKeys.TakeBundleAsync("bob", None));
        Assert.Equal((1, 1), await store.PreKeys.CountPreKeysAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_WithoutAnyKemPreKey_IsNullAndTakesNothing(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk1"), None);
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [(20, Wire("otk20"))], None);

        Assert.Null(await store.PreKeys.TakeBundleAsync("bob", None));
        Assert.Equal((1, 0), await store.PreKeys.CountPreKeysAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_UnknownOwner_IsNull(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        Assert.Null(await store.PreKeys.TakeBundleAsync("nobody", None));
        Assert.Equal((0, 0), await store.PreKeys.CountPreKeysAsync("nobody", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_WithoutOneTimeKeys_HasNoOneTimePreKey(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk1"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 100, Wire("last-resort"), None);

        var bundle = await store.PreKeys.TakeBundleAsync("bob", None);

        Assert.NotNull(bundle);
        Assert.Equal("last-resort", Label(bundle.KemPreKey));
        Assert.Null(bundle.OneTimePreKey);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task SetSignedAndLastResort_ReplaceThePrevious(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk1"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 100, Wire("last-resort-1"), None);

        await store.PreKeys.SetSignedPreKeyAsync("bob", 2, Wire("spk2"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", uint.MaxValue, Wire("last-resort-2"), None);
        var bundle = await store.PreKeys.TakeBundleAsync("bob", None);

        Assert.Equal("spk2", Label(bundle!.SignedPreKey));
        Assert.Equal("last-resort-2", Label(bundle.KemPreKey));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task AddOneTimeKeys_DuplicateIdsAreIgnored(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "bob");
        await store.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk1"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("bob", 100, Wire("last-resort"), None);
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [(20, Wire("otk20"))], None);
        await store.PreKeys.AddOneTimeKemPreKeysAsync("bob", [(10, Wire("kem10"))], None);

        // An id already stored, and an id repeated within one upload: the first wins, no error.
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [(20, Wire("otk20-again")), (0, Wire("otk0")), (0, Wire("otk0-again")), (uint.MaxValue, Wire("otk-max"))], None);
        await store.PreKeys.AddOneTimeKemPreKeysAsync("bob", [(10, Wire("kem10-again")), (11, Wire("kem11"))], None);
        await store.PreKeys.AddOneTimePreKeysAsync("bob", [], None);

        Assert.Equal((3, 2), await store.PreKeys.CountPreKeysAsync("bob", None));
        var taken = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            taken.Add(Label((await store.PreKeys.TakeBundleAsync("bob", None))!.OneTimePreKey));
        }

        Assert.Equal(["otk-max", "otk0", "otk20"], taken.Order());
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Keys_BelongToTheirOwner(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        foreach (var owner in (string[])["alice", "bob"])
        {
            await store.PreKeys.SetSignedPreKeyAsync(owner, 1, Wire($"{owner}-spk"), None);
            await store.PreKeys.SetLastResortKemPreKeyAsync(owner, 1, Wire($"{owner}-last-resort"), None);
            await store.PreKeys.AddOneTimeKemPreKeysAsync(owner, [(1, Wire($"{owner}-kem1"))], None);
            await store.PreKeys.AddOneTimePreKeysAsync(owner, [(1, Wire($"{owner}-otk1"))], None);
        }

        var bundle = await store.PreKeys.TakeBundleAsync("bob", None);

        Assert.Equal(["bob-spk", "bob-kem1", "bob-otk1"], [Label(bundle!.SignedPreKey), Label(bundle.KemPreKey), Label(bundle.OneTimePreKey)]);
        Assert.Equal((1, 1), await store.PreKeys.CountPreKeysAsync("alice", None));
        Assert.Equal((0, 0), await store.PreKeys.CountPreKeysAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Upload_ForUnregisteredOwner_Throws(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        await Assert.ThrowsAnyAsync<DbException>(() => store.PreKeys.SetSignedPreKeyAsync("nobody", 1, Wire("spk"), None));
        await Assert.ThrowsAnyAsync<DbException>(() => store.PreKeys.AddOneTimePreKeysAsync("nobody", [(1, Wire("otk"))], None));
    }

    /// <summary>
    /// 50 one-time keys of each kind, 100 takers at once, split over two stores on one database
    /// (two server nodes, or two processes on one SQLite file): every one-time key goes to exactly
    /// one taker, the other 50 get the last-resort KEM key and no one-time prekey.
    /// </summary>
    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task TakeBundle_ConcurrentTakers_NeverShareAOneTimeKey(Engine engine)
    {
        const int Keys = 50;
        const int Takers = 100;
        var database = await storage.CreateDatabaseAsync(engine);
        await using var nodeA = await database.OpenAsync();
        await using var nodeB = await database.OpenAsync();
        await AddUsersAsync(nodeA, "bob");
        await nodeA.PreKeys.SetSignedPreKeyAsync("bob", 1, Wire("spk"), None);
        await nodeA.PreKeys.SetLastResortKemPreKeyAsync("bob", 1, Wire("last-resort"), None);
        await nodeA.PreKeys.AddOneTimeKemPreKeysAsync("bob", [.. Enumerable.Range(0, Keys).Select(i => ((uint)i, Wire($"kem{i}")))], None);
        await nodeA.PreKeys.AddOneTimePreKeysAsync("bob", [.. Enumerable.Range(0, Keys).Select(i => ((uint)i, Wire($"otk{i}")))], None);

        var bundles = new ConcurrentBag<StoredBundle>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var takers = Enumerable.Range(0, Takers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var node = i % 2 == 0 ? nodeA : nodeB;
            bundles.Add((await node.PreKeys.TakeBundleAsync("bob", None))!);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(takers);

        Assert.Equal(Takers, bundles.Count);
        var oneTime = bundles.Where(b => b.OneTimePreKey is not null).Select(b => Label(b.OneTimePreKey)).ToList();
        Assert.Equal(Keys, oneTime.Count);
        Assert.Equal(Keys, oneTime.Distinct().Count());
        var kem = bundles.Select(b => Label(b.KemPreKey)).Where(label => label != "last-resort").ToList();
        Assert.Equal(Keys, kem.Count);
        Assert.Equal(Keys, kem.Distinct().Count());
        Assert.Equal((0, 0), await nodeB.PreKeys.CountPreKeysAsync("bob", None));
    }
}
