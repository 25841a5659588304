using System.Security.Cryptography;
using Parley.Client.Profile;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Session;

namespace Parley.Client.Tests.Profile;

/// <summary>
/// Gaps in the history: what real ratchet sessions report about undelivered messages, stored with
/// the session state, shown once before the message that revealed them, closed by late arrivals.
/// </summary>
public sealed class GapTests : IDisposable
{
    private readonly TestProfiles profiles = new();
    private readonly IdentityKeyPair aliceIdentity = IdentityKeyPair.Generate();
    private readonly IdentityKeyPair bobIdentity = IdentityKeyPair.Generate();
    private readonly RatchetSession alice;
    private readonly RatchetSession bob;

    public GapTests()
    {
        // Two real sessions from a shared secret (docs/protocol.md §12.5): Alice sends, Bob receives.
        var secret = RandomNumberGenerator.GetBytes(32);
        var ratchetKey = SignedPreKeyRecord.Generate(bobIdentity, 1, DateTimeOffset.UtcNow);
        alice = RatchetSession.InitiateWithSharedSecret(aliceIdentity, bobIdentity.PublicKey, secret, ratchetKey.ToWire());
        bob = RatchetSession.AcceptWithSharedSecret(bobIdentity, aliceIdentity.PublicKey, secret, ratchetKey);
    }

    public void Dispose()
    {
        alice.Dispose();
        bob.Dispose();
        aliceIdentity.Dispose();
        bobIdentity.Dispose();
        profiles.Dispose();
    }

    [Fact]
    public void AGapIsShownOnceJustBeforeTheMessageThatRevealedItAndStoredWithTheSession()
    {
        var sent = Send(4);
        using (var store = profiles.Create("bob"))
        {
            Receive(store, sent[0], 10);
            Receive(store, sent[3], 40);
            Assert.Equal(bob.Serialize(), store.LoadSession("alice"));
        }

        using var reopened = profiles.Open("bob");
        var shown = reopened.TakeUnshown();
        Assert.Equal(["m0", null, "m3"], shown.Select(e => e.Text));
        var gap = shown[1];
        Assert.True(gap.IsGap);
        Assert.Equal((MessageStatus.Missing, 2L, 40L, "alice"), (gap.Status, gap.MissingCount, gap.Time.ToUnixTimeMilliseconds(), gap.Peer));
        Assert.Empty(reopened.TakeUnshown());
        Assert.Equal(2, reopened.MissingFrom("alice"));
        Assert.Equal(["m0", null, "m3"], reopened.History("alice").Select(e => e.Text));
    }

    [Fact]
    public void LateMessagesCloseTheirPlaceAndAClosedGapIsNoLongerReported()
    {
        var sent = Send(4);
        using var store = profiles.Create("bob");
        Receive(store, sent[3], 40);
        Assert.Equal(3, Assert.Single(store.TakeUnshown(), e => e.IsGap).MissingCount);

        Receive(store, sent[1], 41);
        var partly = store.History("alice");
        Assert.Equal(2, Assert.Single(partly, e => e.IsGap).MissingCount);
        Assert.Equal(["m1"], store.TakeUnshown().Select(e => e.Text));

        Receive(store, sent[0], 42);
        Receive(store, sent[2], 43);
        Assert.DoesNotContain(store.History("alice"), e => e.IsGap);
        Assert.Equal(0, store.MissingFrom("alice"));
        Assert.Equal(["m0", "m2"], store.TakeUnshown().Select(e => e.Text));
    }

    [Fact]
    public void AGapFilledBeforeItWasShownIsNeverShown()
    {
        var sent = Send(3);
        using var store = profiles.Create("bob");
        Receive(store, sent[2], 30);
        Receive(store, sent[1], 31);
        Receive(store, sent[0], 32);
        Assert.Equal(["m2", "m1", "m0"], store.TakeUnshown().Select(e => e.Text));
        Assert.DoesNotContain(store.History("alice"), e => e.IsGap);
    }

    [Fact]
    public void AChainSwitchReportsThePreviousChainsTailAsOneGap()
    {
        var first = Send(3);
        using var store = profiles.Create("bob");
        Receive(store, first[0], 10);
        alice.Decrypt(bob.Encrypt("reply"u8));
        var second = Send(2);
        Receive(store, second[1], 20);

        var gap = Assert.Single(store.TakeUnshown(), e => e.IsGap);
        Assert.Equal(3, gap.MissingCount);
        Receive(store, first[2], 21);
        Assert.Equal(2, Assert.Single(store.History("alice"), e => e.IsGap).MissingCount);
    }

    [Fact]
    public void ARedeliveryThatIsNotStoredRecordsNoSecondGap()
    {
        var sent = Send(3);
        using var store = profiles.Create("bob");
        using var copy = RatchetSession.Deserialize(bob.Serialize());
        var id = RandomNumberGenerator.GetBytes(16);
        Receive(store, sent[2], 30, id);

        // The same envelope again, decrypted by a copy of the earlier state (as after a crash before the ack).
        copy.Decrypt(sent[2], out var again);
        Assert.Equal(2, again.OpenedCount);
        Assert.False(store.StoreIncoming(Incoming(id, "m2", 31), "alice", copy.Serialize(), copy.BaseKey.ToArray(), again));
        Assert.Equal(2, store.MissingFrom("alice"));
        Assert.Equal(bob.Serialize(), store.LoadSession("alice"));
    }

    [Fact]
    public void AnOlderProfileIsMigratedAndKeepsItsMessages()
    {
        using (var store = profiles.Create("bob"))
        {
            store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "before the upgrade", 5), null, null);
        }

        using (var raw = profiles.Raw("bob"))
        {
            TestProfiles.Execute(raw, "DROP TABLE gaps; UPDATE meta SET value = 1 WHERE key = 'schema_version'");
        }

        var sent = Send(2);
        using (var migrated = profiles.Open("bob"))
        {
            Receive(migrated, sent[1], 10);
            Assert.Equal(["before the upgrade", null, "m1"], migrated.History("alice").Select(e => e.Text));
        }

        using var raw2 = profiles.Raw("bob");
        Assert.Equal(2L, TestProfiles.Scalar(raw2, "SELECT value FROM meta WHERE key = 'schema_version'"));
    }

    private List<byte[]> Send(int count) => [.. Enumerable.Range(0, count).Select(i => alice.Encrypt(System.Text.Encoding.UTF8.GetBytes($"m{i}")))];

    private void Receive(ProfileStore store, byte[] message, long time, byte[]? id = null)
    {
        var text = System.Text.Encoding.UTF8.GetString(bob.Decrypt(message, out var gaps));
        Assert.True(store.StoreIncoming(Incoming(id ?? RandomNumberGenerator.GetBytes(16), text, time), "alice", bob.Serialize(), bob.BaseKey.ToArray(), gaps));
    }

    private static IncomingMessage Incoming(byte[] id, string text, long time) =>
        new(id, "alice", text, MessageStatus.Delivered, DateTimeOffset.FromUnixTimeMilliseconds(time), DateTimeOffset.FromUnixTimeMilliseconds(time + 1));
}
