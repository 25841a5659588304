using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Contract;

/// <summary>IUserStore: users, revocation and single-use invites, on every engine.</summary>
[Collection(SharedStorage.Name)]
public sealed class UserStoreContractTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task CreateThenGet_ReturnsEveryField(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var alice = User("alice");

        Assert.True(await store.Users.TryCreateUserAsync(alice, None));
        var stored = await store.Users.GetUserAsync("alice", None);

        Assert.NotNull(stored);
        Assert.Equal(alice.Name, stored.Name);
        Assert.Equal(alice.SigningKey, stored.SigningKey);
        Assert.Equal(alice.DhKey, stored.DhKey);
        Assert.Equal(alice.DhKeySignature, stored.DhKeySignature);
        Assert.Equal(alice.CertificatePem, stored.CertificatePem);
        Assert.Equal(alice.CertificateSerial, stored.CertificateSerial);
        Assert.Equal(alice.RegisteredAt, stored.RegisteredAt);
        Assert.Null(stored.RevokedAt);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Get_UnknownOrDifferentlyCasedName_IsNull(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice");

        Assert.Null(await store.Users.GetUserAsync("bob", None));
        Assert.Null(await store.Users.GetUserAsync("Alice", None)); // names arrive case-folded; the store compares exactly
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Create_NameTaken_ReturnsFalseAndKeepsTheFirst(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var first = User("alice");
        await store.Users.TryCreateUserAsync(first, None);

        Assert.False(await store.Users.TryCreateUserAsync(User("alice"), None));
        Assert.Equal(first.SigningKey, (await store.Users.GetUserAsync("alice", None))!.SigningKey);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Create_SameNameConcurrently_ExactlyOneWins(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.Users.TryCreateUserAsync(User("alice"), None))));

        Assert.Single(results, created => created);
        Assert.Single(await store.Users.ListUsersAsync(None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task List_IsOrderedByName(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        Assert.Empty(await store.Users.ListUsersAsync(None));
        await AddUsersAsync(store, "carol", "alice", "bob");

        var users = await store.Users.ListUsersAsync(None);

        Assert.Equal(["alice", "bob", "carol"], users.Select(u => u.Name));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Revoke_SetsRevokedAtOnce(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var at = Now();

        Assert.True(await store.Users.RevokeUserAsync("alice", at, None));
        Assert.False(await store.Users.RevokeUserAsync("alice", at.AddHours(1), None));
        Assert.False(await store.Users.RevokeUserAsync("mallory", at, None));

        Assert.Equal(at, (await store.Users.GetUserAsync("alice", None))!.RevokedAt);
        Assert.Null((await store.Users.GetUserAsync("bob", None))!.RevokedAt);
        Assert.Equal(at, (await store.Users.ListUsersAsync(None))[0].RevokedAt);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Invite_IsConsumedOnce(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var hash = Bytes(32);
        var now = Now();
        await store.Users.CreateInviteAsync(hash, now.AddDays(1), None);

        Assert.True(await store.Users.TryConsumeInviteAsync(hash, now, None));
        Assert.False(await store.Users.TryConsumeInviteAsync(hash, now, None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Invite_ConsumedConcurrently_ExactlyOneSucceeds(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var hash = Bytes(32);
        var now = Now();
        await store.Users.CreateInviteAsync(hash, now.AddDays(1), None);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.Users.TryConsumeInviteAsync(hash, now, None))));

        Assert.Single(results, consumed => consumed);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Invite_AtOrAfterExpiry_IsRefused(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var expires = Now();
        var atExpiry = Bytes(32);
        var afterExpiry = Bytes(32);
        var justBefore = Bytes(32);
        await store.Users.CreateInviteAsync(atExpiry, expires, None);
        await store.Users.CreateInviteAsync(afterExpiry, expires, None);
        await store.Users.CreateInviteAsync(justBefore, expires, None);

        Assert.False(await store.Users.TryConsumeInviteAsync(atExpiry, expires, None));
        Assert.False(await store.Users.TryConsumeInviteAsync(afterExpiry, expires.AddMinutes(1), None));
        Assert.True(await store.Users.TryConsumeInviteAsync(justBefore, expires.AddMilliseconds(-1), None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Invite_Unknown_IsRefused(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        Assert.False(await store.Users.TryConsumeInviteAsync(Bytes(32), Now(), None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Invite_CreatedAgainAfterUse_IsNotRevived(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var hash = Bytes(32);
        var now = Now();
        await store.Users.CreateInviteAsync(hash, now.AddDays(1), None);
        Assert.True(await store.Users.TryConsumeInviteAsync(hash, now, None));

        await store.Users.CreateInviteAsync(hash, now.AddDays(2), None);

        Assert.False(await store.Users.TryConsumeInviteAsync(hash, now, None));
    }
}
