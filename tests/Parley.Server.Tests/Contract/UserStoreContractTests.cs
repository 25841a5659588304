using Parley.Server.Storage;
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
    public async Task GetRecipient_IsTheRevocationAndQueueDepth(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol");
        var first = Envelope("alice", "bob");
        Assert.True(await store.Mailbox.EnqueueAsync(first, None));
        Assert.False(await store.Mailbox.EnqueueAsync(first, None)); // a retry is not counted again
        Assert.True(await store.Mailbox.EnqueueAsync(Envelope("carol", "bob"), None));
        Assert.True(await store.Mailbox.EnqueueAsync(Envelope("bob", "alice"), None));

        Assert.Equal(new MailboxRecipient(false, 2), await store.Users.GetRecipientAsync("bob", None));
        Assert.Equal(new MailboxRecipient(false, 0), await store.Users.GetRecipientAsync("carol", None));
        Assert.Null(await store.Users.GetRecipientAsync("nobody", None));
        Assert.Null(await store.Users.GetRecipientAsync("Bob", None));

        await store.Mailbox.AcknowledgeAsync("bob", [first.MessageId, first.MessageId, Bytes()], None);
        Assert.Equal(new MailboxRecipient(false, 1), await store.Users.GetRecipientAsync("bob", None));
        Assert.Equal(2L, await store.Mailbox.CountAllQueuedAsync(None));

        Assert.True(await store.Users.RevokeUserAsync("bob", Now(), None));
        Assert.Equal(new MailboxRecipient(true, 1), await store.Users.GetRecipientAsync("bob", None));
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
    public async Task Revoke_RecordsTheCertificateOnceInTheRevokedCertificates(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var alice = User("alice");
        var bob = User("bob");
        Assert.True(await store.Users.TryCreateUserAsync(alice, None));
        Assert.True(await store.Users.TryCreateUserAsync(bob, None));
        Assert.Empty(await store.Users.ListRevokedCertificatesAsync(None));
        var at = Now();

        Assert.True(await store.Users.RevokeUserAsync("alice", at, None));
        Assert.False(await store.Users.RevokeUserAsync("alice", at.AddHours(1), None));
        Assert.False(await store.Users.RevokeUserAsync("mallory", at, None));

        Assert.Equal([(alice.CertificateSerial, at)], await store.Users.ListRevokedCertificatesAsync(None));
        Assert.True(await store.Users.IsIdentityRevokedAsync(alice.SigningKey, None));
        Assert.False(await store.Users.IsIdentityRevokedAsync(bob.SigningKey, None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_TakesOverTheNameAndTheOldCertificateStaysRevoked(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var old = User("alice", Now().AddDays(-30));
        Assert.True(await store.Users.TryCreateUserAsync(old, None));
        var revokedAt = Now().AddDays(-1);
        Assert.True(await store.Users.RevokeUserAsync("alice", revokedAt, None));
        var replacement = User("alice");

        Assert.True(await store.Users.TryReplaceRevokedUserAsync(replacement, None));

        var stored = await store.Users.GetUserAsync("alice", None);
        Assert.NotNull(stored);
        Assert.Equal(replacement.SigningKey, stored.SigningKey);
        Assert.Equal(replacement.DhKey, stored.DhKey);
        Assert.Equal(replacement.DhKeySignature, stored.DhKeySignature);
        Assert.Equal(replacement.CertificatePem, stored.CertificatePem);
        Assert.Equal(replacement.CertificateSerial, stored.CertificateSerial);
        Assert.Equal(replacement.RegisteredAt, stored.RegisteredAt);
        Assert.Null(stored.RevokedAt);
        Assert.Single(await store.Users.ListUsersAsync(None));
        Assert.Equal([(old.CertificateSerial, revokedAt)], await store.Users.ListRevokedCertificatesAsync(None));
        Assert.True(await store.Users.IsIdentityRevokedAsync(old.SigningKey, None));
        Assert.False(await store.Users.IsIdentityRevokedAsync(replacement.SigningKey, None));

        // Now active again: a second replacement is refused until the new certificate is revoked too.
        Assert.False(await store.Users.TryReplaceRevokedUserAsync(User("alice"), None));
        Assert.Equal(replacement.SigningKey, (await store.Users.GetUserAsync("alice", None))!.SigningKey);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_UnknownOrActiveName_ReturnsFalseAndChangesNothing(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var bob = User("bob");
        Assert.True(await store.Users.TryCreateUserAsync(bob, None));

        Assert.False(await store.Users.TryReplaceRevokedUserAsync(User("mallory"), None));
        Assert.False(await store.Users.TryReplaceRevokedUserAsync(User("bob"), None));

        Assert.Null(await store.Users.GetUserAsync("mallory", None));
        var stored = (await store.Users.GetUserAsync("bob", None))!;
        Assert.Equal(bob.SigningKey, stored.SigningKey);
        Assert.Equal(bob.CertificateSerial, stored.CertificateSerial);
        Assert.Null(stored.RevokedAt);
        Assert.Empty(await store.Users.ListRevokedCertificatesAsync(None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_WithARevokedReplacement_Throws(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice");
        Assert.True(await store.Users.RevokeUserAsync("alice", Now(), None));

        await Assert.ThrowsAsync<ArgumentException>(() => store.Users.TryReplaceRevokedUserAsync(User("alice") with { RevokedAt = Now() }, None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_DeletesTheOldIdentitysPreKeysAndKeepsItsQueuedEnvelopes(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        foreach (var owner in new[] { "alice", "bob" })
        {
            await store.PreKeys.SetSignedPreKeyAsync(owner, 1, Wire($"{owner}-spk"), None);
            await store.PreKeys.SetLastResortKemPreKeyAsync(owner, 2, Wire($"{owner}-last-resort"), None);
            await store.PreKeys.AddOneTimePreKeysAsync(owner, [(3, Wire($"{owner}-otk3")), (4, Wire($"{owner}-otk4"))], None);
            await store.PreKeys.AddOneTimeKemPreKeysAsync(owner, [(5, Wire($"{owner}-kem5"))], None);
        }

        var queued = Envelope("bob", "alice", body: "to the old identity");
        Assert.True(await store.Mailbox.EnqueueAsync(queued, None));
        Assert.True(await store.Users.RevokeUserAsync("alice", Now(), None));

        Assert.True(await store.Users.TryReplaceRevokedUserAsync(User("alice"), None));

        Assert.Equal((0, 0), await store.PreKeys.CountPreKeysAsync("alice", None));
        Assert.Null(await store.PreKeys.TakeBundleAsync("alice", None));
        Assert.Equal((2, 1), await store.PreKeys.CountPreKeysAsync("bob", None));
        Assert.Equal("bob-spk", Label((await store.PreKeys.TakeBundleAsync("bob", None))!.SignedPreKey));
        var kept = Assert.Single(await store.Mailbox.PeekAsync("alice", 0, 10, None));
        Assert.Equal(queued.MessageId, kept.MessageId);

        // The new identity publishes its own prekeys, with ids the old one used.
        await store.PreKeys.SetSignedPreKeyAsync("alice", 1, Wire("new-spk"), None);
        await store.PreKeys.SetLastResortKemPreKeyAsync("alice", 2, Wire("new-last-resort"), None);
        await store.PreKeys.AddOneTimePreKeysAsync("alice", [(3, Wire("new-otk3"))], None);
        var bundle = (await store.PreKeys.TakeBundleAsync("alice", None))!;
        Assert.Equal(["new-spk", "new-last-resort", "new-otk3"], [Label(bundle.SignedPreKey), Label(bundle.KemPreKey), Label(bundle.OneTimePreKey)]);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_Concurrently_ExactlyOneWins(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var old = User("alice");
        Assert.True(await store.Users.TryCreateUserAsync(old, None));
        Assert.True(await store.Users.RevokeUserAsync("alice", Now(), None));
        var candidates = Enumerable.Range(0, 20).Select(_ => User("alice")).ToList();

        var results = await Task.WhenAll(candidates.Select(c => Task.Run(() => store.Users.TryReplaceRevokedUserAsync(c, None))));

        Assert.Single(results, replaced => replaced);
        var winner = candidates[Array.IndexOf(results, true)];
        Assert.Equal(winner.SigningKey, (await store.Users.GetUserAsync("alice", None))!.SigningKey);
        Assert.Equal([old.CertificateSerial], (await store.Users.ListRevokedCertificatesAsync(None)).Select(r => r.Serial));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task ReplaceRevoked_RevokedAgain_EveryCertificateStaysRevokedInOrder(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        var first = User("alice");
        var second = User("alice");
        var third = User("alice");
        var firstRevoked = Now().AddHours(-2);
        var secondRevoked = Now().AddHours(-1);
        Assert.True(await store.Users.TryCreateUserAsync(first, None));
        Assert.True(await store.Users.RevokeUserAsync("alice", firstRevoked, None));
        Assert.True(await store.Users.TryReplaceRevokedUserAsync(second, None));
        Assert.True(await store.Users.RevokeUserAsync("alice", secondRevoked, None));

        Assert.True(await store.Users.TryReplaceRevokedUserAsync(third, None));

        Assert.Equal(
            [(first.CertificateSerial, firstRevoked), (second.CertificateSerial, secondRevoked)],
            await store.Users.ListRevokedCertificatesAsync(None));
        Assert.Equal(third.CertificateSerial, (await store.Users.GetUserAsync("alice", None))!.CertificateSerial);
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
