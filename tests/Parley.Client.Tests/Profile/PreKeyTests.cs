using Parley.Client.Profile;
using Parley.Protocol.PreKeys;

namespace Parley.Client.Tests.Profile;

public sealed class PreKeyTests : IDisposable
{
    private readonly TestProfiles profiles = new();

    public void Dispose() => profiles.Dispose();

    [Fact]
    public void NextPreKeyId_IsMonotonicAcrossReopen()
    {
        using (var store = profiles.Create("alice"))
        {
            Assert.Equal([1u, 2u, 3u], new[] { store.NextPreKeyId(), store.NextPreKeyId(), store.NextPreKeyId() });
        }

        using var reopened = profiles.Open("alice");
        Assert.Equal(4u, reopened.NextPreKeyId());
    }

    [Fact]
    public void ConsumePreKeys_DeletesOneTimeKeysButNotTheLastResort()
    {
        using var store = profiles.Create("alice");
        var signed = SignedPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), DateTimeOffset.UnixEpoch);
        var lastResort = KemPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), lastResort: true, DateTimeOffset.UnixEpoch);
        var oneTime = OneTimePreKeyRecord.Generate(store.NextPreKeyId());
        var oneTimeKem = KemPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), lastResort: false, DateTimeOffset.UnixEpoch);
        Assert.Null(store.CurrentSignedPreKeyId);
        store.AddPreKeys(signed, lastResort, [oneTime], [oneTimeKem]);
        Assert.Equal(signed.Id, store.CurrentSignedPreKeyId);
        Assert.Equal(lastResort.Id, store.CurrentLastResortKemPreKeyId);

        store.ConsumePreKeys(oneTime.Id, oneTimeKem.Id);
        store.ConsumePreKeys(null, lastResort.Id);

        Assert.Null(store.GetOneTimePreKey(oneTime.Id));
        Assert.Null(store.GetKemPreKey(oneTimeKem.Id));
        Assert.NotNull(store.GetKemPreKey(lastResort.Id));
        Assert.NotNull(store.GetSignedPreKey(signed.Id));
        Assert.Null(store.GetSignedPreKey(999));
    }

    [Fact]
    public void AddPreKeys_RefusesReusedIdsAndWrongKinds()
    {
        using var store = profiles.Create("alice");
        var oneTime = OneTimePreKeyRecord.Generate(store.NextPreKeyId());
        store.AddPreKeys(null, null, [oneTime], []);

        var again = OneTimePreKeyRecord.Generate(oneTime.Id);
        var fresh = OneTimePreKeyRecord.Generate(store.NextPreKeyId());
        Assert.Throws<ArgumentException>(() => store.AddPreKeys(null, null, [fresh, again], []));
        Assert.Null(store.GetOneTimePreKey(fresh.Id));

        var notLastResort = KemPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), lastResort: false, DateTimeOffset.UnixEpoch);
        Assert.Throws<ArgumentException>("lastResortKemPreKey", () => store.AddPreKeys(null, notLastResort, [], []));
        var lastResort = KemPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), lastResort: true, DateTimeOffset.UnixEpoch);
        Assert.Throws<ArgumentException>("oneTimeKemPreKeys", () => store.AddPreKeys(null, null, [], [lastResort]));
    }
}
