using Parley.Client.Profile;
using Parley.Protocol.Identity;
using Parley.Protocol.Storage;

namespace Parley.Client.Tests.Profile;

public sealed class ContactTests : IDisposable
{
    private readonly TestProfiles profiles = new();
    private readonly IdentityKeyPair bobOld = IdentityKeyPair.Generate();
    private readonly IdentityKeyPair bobNew = IdentityKeyPair.Generate();

    public void Dispose()
    {
        bobOld.Dispose();
        bobNew.Dispose();
        profiles.Dispose();
    }

    [Fact]
    public void TrustFlow_FirstUsePinTrustedChangedAccepted()
    {
        using (var store = profiles.Create("alice"))
        {
            Assert.True(store.AddContact("bob"));
            Assert.False(store.AddContact("bob"));
            Assert.Equal(new Contact("bob", null, false, false, null), Assert.Single(store.ListContacts()));
            Assert.Equal(IdentityTrust.FirstUse, store.GetTrust("bob", bobOld.PublicKey));

            store.Pin("bob", bobOld.PublicKey);
            Assert.Equal(IdentityTrust.Trusted, store.GetTrust("bob", bobOld.PublicKey));
            Assert.Equal(IdentityTrust.Changed, store.GetTrust("bob", bobNew.PublicKey));

            Assert.False(store.MarkVerified("bob", bobNew.PublicKey));
            Assert.True(store.MarkVerified("bob", bobOld.PublicKey));
            Assert.True(Assert.Single(store.ListContacts()).Verified);

            store.RecordKeyChange("bob", bobNew.PublicKey);
        }

        using (var store = profiles.Open("alice"))
        {
            // Blocked until accepted, whichever key is offered now.
            Assert.Equal(IdentityTrust.Changed, store.GetTrust("bob", bobNew.PublicKey));
            Assert.Equal(IdentityTrust.Changed, store.GetTrust("bob", bobOld.PublicKey));
            var changed = Assert.Single(store.ListContacts());
            Assert.True(changed.KeyChanged);
            Assert.Equal(bobOld.PublicKey.Fingerprint, changed.Fingerprint);
            Assert.Equal(bobOld.PublicKey, store.GetPinnedIdentity("bob"));
            Assert.Equal(bobNew.PublicKey, store.GetOfferedIdentity("bob"));
            Assert.False(store.MarkVerified("bob", bobOld.PublicKey));

            store.AcceptChangedKey("bob", bobNew.PublicKey);

            Assert.Equal(IdentityTrust.Trusted, store.GetTrust("bob", bobNew.PublicKey));
            Assert.Equal(IdentityTrust.Changed, store.GetTrust("bob", bobOld.PublicKey));
            var accepted = Assert.Single(store.ListContacts());
            Assert.Equal(("bob", bobNew.PublicKey.Fingerprint, false, false), (accepted.Name, accepted.Fingerprint, accepted.Verified, accepted.KeyChanged));
            Assert.Null(store.GetOfferedIdentity("bob"));

            store.StoreSession("bob", [1]);
            Assert.True(store.DeleteSession("bob"));
            Assert.False(store.DeleteSession("bob"));
            Assert.Null(store.LoadSession("bob"));
        }
    }

    [Fact]
    public void PinSameKey_KeepsVerified()
    {
        using var store = profiles.Create("alice");
        store.Pin("bob", bobOld.PublicKey);
        store.MarkVerified("bob", bobOld.PublicKey);
        store.Pin("bob", bobOld.PublicKey);
        Assert.True(Assert.Single(store.ListContacts()).Verified);
        store.Pin("bob", bobNew.PublicKey);
        Assert.False(Assert.Single(store.ListContacts()).Verified);
    }

    [Fact]
    public void RecordKeyChange_WithoutPinnedKeyThrows_AndSameKeyIsNoChange()
    {
        using var store = profiles.Create("alice");
        store.AddContact("bob");
        Assert.Throws<InvalidOperationException>(() => store.RecordKeyChange("bob", bobOld.PublicKey));
        store.Pin("bob", bobOld.PublicKey);
        store.RecordKeyChange("bob", bobOld.PublicKey);
        Assert.Equal(IdentityTrust.Trusted, store.GetTrust("bob", bobOld.PublicKey));
    }

    [Fact]
    public void RemoveContact_ForgetsThePin()
    {
        using var store = profiles.Create("alice");
        store.Pin("bob", bobOld.PublicKey);
        store.Pin("carol", bobNew.PublicKey);
        Assert.True(store.RemoveContact("bob"));
        Assert.False(store.RemoveContact("bob"));
        Assert.Equal(["carol"], store.ListContacts().Select(contact => contact.Name));
        Assert.Equal(IdentityTrust.FirstUse, store.GetTrust("bob", bobNew.PublicKey));
    }
}
