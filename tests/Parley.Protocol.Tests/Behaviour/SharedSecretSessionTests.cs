using System.Security.Cryptography;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;

namespace Parley.Protocol.Tests.Behaviour;

/// <summary>A Double Ratchet started from a shared secret SK (Double Ratchet §3.3) rather than PQXDH.</summary>
public class SharedSecretSessionTests
{
    [Fact]
    public void InitiatorSendsFirstThenBothSidesTalk()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        var sk = RandomNumberGenerator.GetBytes(32);
        var ratchetKey = SignedPreKeyRecord.Generate(bob, 1, DateTimeOffset.UnixEpoch);

        using var a = RatchetSession.InitiateWithSharedSecret(alice, bob.PublicKey, sk, ratchetKey.ToWire());
        using var b = RatchetSession.AcceptWithSharedSecret(bob, alice.PublicKey, sk, ratchetKey);

        Assert.Throws<ParleyProtocolException>(() => b.Encrypt("too early"u8));
        Assert.Equal("hi bob"u8.ToArray(), b.Decrypt(a.Encrypt("hi bob"u8).AsSpan()));
        Assert.Equal("hi alice"u8.ToArray(), a.Decrypt(b.Encrypt("hi alice"u8).AsSpan()));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(new[] { (byte)i }, b.Decrypt(a.Encrypt([(byte)i]).AsSpan()));
        }

        Assert.Equal(bob.PublicKey, a.RemoteIdentity);
        Assert.Equal(alice.PublicKey, b.RemoteIdentity);
    }

    [Fact]
    public void DifferentSecretsDoNotInteroperate()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        var ratchetKey = SignedPreKeyRecord.Generate(bob, 1, DateTimeOffset.UnixEpoch);

        using var a = RatchetSession.InitiateWithSharedSecret(alice, bob.PublicKey, RandomNumberGenerator.GetBytes(32), ratchetKey.ToWire());
        using var b = RatchetSession.AcceptWithSharedSecret(bob, alice.PublicKey, RandomNumberGenerator.GetBytes(32), ratchetKey);

        var error = Assert.Throws<ParleyProtocolException>(() => b.Decrypt(a.Encrypt("hi"u8).AsSpan()));
        Assert.Equal(ProtocolErrorKind.Tampered, error.Kind);
    }

    [Fact]
    public void RatchetKeyNotSignedByTheRemoteIsRefused()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        using var mallory = IdentityKeyPair.Generate();
        var forged = SignedPreKeyRecord.Generate(mallory, 1, DateTimeOffset.UnixEpoch);

        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.InitiateWithSharedSecret(alice, bob.PublicKey, new byte[32], forged.ToWire()));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
        Assert.Throws<ArgumentException>("sharedSecret", () => RatchetSession.InitiateWithSharedSecret(alice, bob.PublicKey, new byte[16], forged.ToWire()));
    }
}
