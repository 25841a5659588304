using Parley.Protocol.Session;
using Parley.Protocol.Storage;

namespace Parley.Protocol.Tests.Behaviour;

public class SessionCipherTests
{
    private sealed class Device(Party party)
    {
        internal Party Party { get; } = party;

        internal InMemorySessionStore Sessions { get; } = new();

        internal InMemoryIdentityKeyStore Identities { get; } = new(party.Identity);

        internal SessionCipher With(string peer) => new(peer, Sessions, Party.PreKeys, Identities);
    }

    [Fact]
    public void ConversationThroughStoresPinsIdentitiesOnFirstUse()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        var aliceDevice = new Device(alice);
        var bobDevice = new Device(bob);

        var toBob = aliceDevice.With("bob");
        Assert.False(toBob.HasSession);
        toBob.ProcessBundle(bob.Bundle());
        var first = toBob.Encrypt("hello"u8);
        var second = toBob.Encrypt("again"u8);

        var toAlice = bobDevice.With("alice");
        Assert.Equal("hello"u8.ToArray(), toAlice.Decrypt(first));
        Assert.Equal("again"u8.ToArray(), toAlice.Decrypt(second));
        Assert.Equal("reply"u8.ToArray(), toBob.Decrypt(toAlice.Encrypt("reply"u8)));

        Assert.Equal(IdentityTrust.Trusted, aliceDevice.Identities.GetTrust("bob", bob.Identity.PublicKey));
        Assert.Equal(IdentityTrust.Trusted, bobDevice.Identities.GetTrust("alice", alice.Identity.PublicKey));
        var replay = Assert.Throws<ParleyProtocolException>(() => toAlice.Decrypt(second));
        Assert.Equal(ProtocolErrorKind.Replayed, replay.Kind);
    }

    [Fact]
    public void ChangedIdentityBlocksUntilAccepted()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var impostor = new Party("bob");
        var aliceDevice = new Device(alice);
        var toBob = aliceDevice.With("bob");
        toBob.ProcessBundle(bob.Bundle());

        var error = Assert.Throws<ParleyProtocolException>(() => toBob.ProcessBundle(impostor.Bundle()));
        Assert.Equal(ProtocolErrorKind.UntrustedIdentity, error.Kind);

        aliceDevice.Identities.Pin("bob", impostor.Identity.PublicKey);
        toBob.ProcessBundle(impostor.Bundle());
        Assert.NotEmpty(toBob.Encrypt("after accepting"u8));
    }

    [Fact]
    public void PreKeyMessageFromAChangedIdentityConsumesNothing()
    {
        using var alice = new Party("alice");
        using var impostor = new Party("alice");
        using var bob = new Party("bob", oneTimePreKeys: 2);
        var bobDevice = new Device(bob);
        var genuine = new Device(alice).With("bob");
        genuine.ProcessBundle(bob.Bundle());
        bobDevice.With("alice").Decrypt(genuine.Encrypt("hi"u8));
        var before = bob.PreKeys.OneTimePreKeyCount;

        var fake = new Device(impostor).With("bob");
        fake.ProcessBundle(bob.Bundle());
        var error = Assert.Throws<ParleyProtocolException>(() => bobDevice.With("alice").Decrypt(fake.Encrypt("it's me"u8)));

        Assert.Equal(ProtocolErrorKind.UntrustedIdentity, error.Kind);
        Assert.Equal(before, bob.PreKeys.OneTimePreKeyCount);
    }

    [Fact]
    public void EncryptWithoutSessionIsNoSession()
    {
        using var alice = new Party("alice");
        var error = Assert.Throws<ParleyProtocolException>(() => new Device(alice).With("bob").Encrypt("x"u8));
        Assert.Equal(ProtocolErrorKind.NoSession, error.Kind);
    }
}
