using Google.Protobuf;
using Parley.Protocol.Session;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Tests.Behaviour;

public class SessionSetupTests
{
    [Fact]
    public void FirstMessageIsAPreKeyMessageAndDecrypts()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8));

        Assert.Equal(CiphertextMessage.BodyOneofCase.PreKey, message.BodyCase);
        using var accepted = RatchetSession.Accept(bob.Identity, message.PreKey, bob.PreKeys, out var plaintext);
        Assert.Equal("hi"u8.ToArray(), plaintext);
        Assert.Equal(alice.Identity.PublicKey, accepted.RemoteIdentity);
        Assert.Equal(bob.Identity.PublicKey, session.RemoteIdentity);
        Assert.True(session.IsInitiator);
        Assert.False(accepted.IsInitiator);
    }

    [Fact]
    public void InitiatorSendsPreKeyMessagesUntilTheFirstReply()
    {
        using var c = Conversation.Start();
        Assert.Equal(CiphertextMessage.BodyOneofCase.PreKey, RatchetSession.ParseMessage(c.AliceSends("second")).BodyCase);
        Assert.True(c.AliceSession.AwaitingFirstReply);

        Assert.Equal("reply", c.AliceReads(c.BobSends("reply")));

        Assert.False(c.AliceSession.AwaitingFirstReply);
        Assert.Equal(CiphertextMessage.BodyOneofCase.Ratchet, RatchetSession.ParseMessage(c.AliceSends("third")).BodyCase);
    }

    [Fact]
    public void SecondPreKeyMessageOfTheSameRunDecryptsOnTheExistingSession()
    {
        using var c = Conversation.Start();
        var message = RatchetSession.ParseMessage(c.AliceSends("again"));
        Assert.True(c.BobSession.Matches(message.PreKey));
        Assert.Equal("again"u8.ToArray(), c.BobSession.Decrypt(message));
    }

    [Fact]
    public void OneTimePreKeyIsConsumedOnlyAfterTheMessageDecrypts()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob", oneTimePreKeys: 1);
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8));

        var tampered = message.PreKey.Clone();
        var ciphertext = tampered.Message.Ciphertext.ToByteArray();
        ciphertext[0] ^= 1;
        tampered.Message.Ciphertext = ByteString.CopyFrom(ciphertext);
        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Accept(bob.Identity, tampered, bob.PreKeys, out _));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
        Assert.Equal(1, bob.PreKeys.OneTimePreKeyCount);

        using var accepted = RatchetSession.Accept(bob.Identity, message.PreKey, bob.PreKeys, out _);
        Assert.Equal(0, bob.PreKeys.OneTimePreKeyCount);

        var replay = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Accept(bob.Identity, message.PreKey, bob.PreKeys, out _));
        Assert.Equal(ProtocolErrorKind.UnknownPreKey, replay.Kind);
    }

    [Fact]
    public void SessionWithoutOneTimePreKeyWorks()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob", oneTimePreKeys: 0);
        var bundle = bob.Bundle();
        Assert.Null(bundle.OneTimePreKey);
        using var session = RatchetSession.Initiate(alice.Identity, bundle);
        var message = RatchetSession.ParseMessage(session.Encrypt("no opk"u8));
        Assert.False(message.PreKey.HasOneTimePreKey);
        using var accepted = RatchetSession.Accept(bob.Identity, message.PreKey, bob.PreKeys, out var plaintext);
        Assert.Equal("no opk"u8.ToArray(), plaintext);
    }

    [Fact]
    public void BundleWithForgedSignedPreKeySignatureIsRejected()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        var bundle = bob.Bundle();
        var signature = bundle.SignedPreKey.Signature.ToByteArray();
        signature[5] ^= 0x40;
        bundle.SignedPreKey.Signature = ByteString.CopyFrom(signature);

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Initiate(alice.Identity, bundle));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
    }

    [Fact]
    public void BundleWithKemKeyFromAnotherIdentityIsRejected()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var mallory = new Party("mallory");
        var bundle = bob.Bundle();
        bundle.KemPreKey = mallory.KemPreKey.ToWire();

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Initiate(alice.Identity, bundle));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
    }

    [Fact]
    public void BundleWhoseIdentityDhKeyIsNotSignedIsRejected()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var mallory = new Party("mallory");
        var bundle = bob.Bundle();
        bundle.Identity.DhKey = ByteString.CopyFrom(mallory.Identity.PublicKey.DhKey);

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Initiate(alice.Identity, bundle));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
    }

    [Fact]
    public void AcceptWithACheckedIdentityThatIsNotTheMessagesVerifiesTheMessagesOwn()
    {
        // SessionCipher passes the identity it already read from the message, so that its DH-key
        // signature is checked once; an identity with other bytes must not stand in for the message's.
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var mallory = new Party("mallory");
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8)).PreKey;
        message.Identity.DhKey = ByteString.CopyFrom(mallory.Identity.PublicKey.DhKey);

        var error = Assert.Throws<ParleyProtocolException>(() =>
            RatchetSession.Accept(bob.Identity, message, bob.PreKeys, alice.Identity.PublicKey, out _));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
    }

    [Fact]
    public void AcceptWithTheMessagesCheckedIdentityDecrypts()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8)).PreKey;
        var claimed = Identity.IdentityKey.FromWire(message.Identity);

        using var accepted = RatchetSession.Accept(bob.Identity, message, bob.PreKeys, claimed, out var plaintext);
        Assert.Equal("hi"u8.ToArray(), plaintext);
        Assert.Same(claimed, accepted.RemoteIdentity);
    }

    [Fact]
    public void BundleOfUnknownVersionIsRefused()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        var bundle = bob.Bundle();
        bundle.Version = 2;

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Initiate(alice.Identity, bundle));
        Assert.Equal(ProtocolErrorKind.UnsupportedVersion, error.Kind);
    }

    [Fact]
    public void PreKeyMessageNamingAnUnknownSignedPreKeyIsRejected()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8)).PreKey;
        message.SignedPreKeyId = 99;

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Accept(bob.Identity, message, bob.PreKeys, out _));
        Assert.Equal(ProtocolErrorKind.UnknownPreKey, error.Kind);
    }

    [Fact]
    public void PreKeyMessageWithSwappedIdentityFailsAuthentication()
    {
        using var alice = new Party("alice");
        using var bob = new Party("bob");
        using var mallory = new Party("mallory");
        using var session = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var message = RatchetSession.ParseMessage(session.Encrypt("hi"u8)).PreKey;
        message.Identity = mallory.Identity.PublicKey.ToWire();

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Accept(bob.Identity, message, bob.PreKeys, out _));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
    }

    [Fact]
    public void GarbageBytesAreMalformedNotACrash()
    {
        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.ParseMessage([0xFF, 0xFF, 0xFF, 0x01]));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
        var empty = Assert.Throws<ParleyProtocolException>(() => RatchetSession.ParseMessage([]));
        Assert.Equal(ProtocolErrorKind.Malformed, empty.Kind);
    }

    [Fact]
    public void MessageOfUnknownVersionIsRefused()
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var message = RatchetSession.ParseMessage(c.AliceSends("v"));
        message.Ratchet.Version = 9;

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.ParseMessage(message.ToByteArray()));
        Assert.Equal(ProtocolErrorKind.UnsupportedVersion, error.Kind);
    }

    [Fact]
    public void SerializedSessionStateNeverContainsItsOwnToString()
    {
        using var c = Conversation.Start();
        Assert.DoesNotContain("RootKey", c.AliceSession.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("RatchetSession(with ", c.AliceSession.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("IdentityKeyPair(", c.Alice.Identity.ToString(), StringComparison.Ordinal);
    }
}
