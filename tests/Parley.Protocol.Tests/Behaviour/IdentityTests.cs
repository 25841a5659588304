using Google.Protobuf;
using Parley.Protocol.Identity;

namespace Parley.Protocol.Tests.Behaviour;

public class IdentityTests
{
    [Fact]
    public void ExportedIdentityImportsToTheSameKeys()
    {
        using var identity = IdentityKeyPair.Generate();
        var exported = identity.Export();
        using var restored = IdentityKeyPair.Import(exported);

        Assert.Equal(identity.PublicKey, restored.PublicKey);
        Assert.Equal(identity.PublicKey.Fingerprint, restored.PublicKey.Fingerprint);
        Assert.Equal(64, restored.Sign("x"u8).Length);
    }

    [Fact]
    public void WireIdentityWithForgedDhKeyIsRejected()
    {
        using var identity = IdentityKeyPair.Generate();
        using var other = IdentityKeyPair.Generate();
        var wire = identity.PublicKey.ToWire();
        wire.DhKey = ByteString.CopyFrom(other.PublicKey.DhKey);

        var error = Assert.Throws<ParleyProtocolException>(() => IdentityKey.FromWire(wire));
        Assert.Equal(ProtocolErrorKind.InvalidSignature, error.Kind);
    }

    [Fact]
    public void WireIdentityWithWrongLengthsIsMalformed()
    {
        using var identity = IdentityKeyPair.Generate();
        var wire = identity.PublicKey.ToWire();
        wire.SigningKey = ByteString.CopyFrom(new byte[31]);

        var error = Assert.Throws<ParleyProtocolException>(() => IdentityKey.FromWire(wire));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public void ImportOfGarbageIsMalformed()
    {
        var error = Assert.Throws<ParleyProtocolException>(() => IdentityKeyPair.Import([9, 9, 9]));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public void DisposedIdentityRefusesToSignOrExport()
    {
        var identity = IdentityKeyPair.Generate();
        identity.Dispose();
        identity.Dispose();

        Assert.Throws<ObjectDisposedException>(() => identity.Sign("x"u8));
        Assert.Throws<ObjectDisposedException>(() => identity.Export());
    }

    [Fact]
    public void SignatureVerifiesUnderThePublicKeyAndToStringShowsOnlyTheFingerprint()
    {
        using var identity = IdentityKeyPair.Generate();
        var signature = identity.Sign("parley"u8);

        Assert.True(identity.PublicKey.Verify("parley"u8, signature));
        Assert.False(identity.PublicKey.Verify("parlez"u8, signature));
        Assert.Equal($"IdentityKeyPair({identity.PublicKey.Fingerprint})", identity.ToString());
    }

    [Fact]
    public void DisposedSigningKeyIsUnusableAndNeverPrintsItsBytes()
    {
        var key = Parley.Protocol.Primitives.Ed25519.Generate();
        Assert.NotEqual(new byte[32], Parley.Protocol.Primitives.Ed25519.ExportSeed(key));
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Parley.Protocol.Primitives.Ed25519.ExportSeed(key));
        Assert.Equal("SigningKey", key.ToString());
    }

    [Fact]
    public void FingerprintIsSha256OfTheSigningKey()
    {
        using var identity = IdentityKeyPair.Generate();
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(identity.PublicKey.SigningKey));
        Assert.Equal(expected, identity.PublicKey.Fingerprint);
        Assert.Equal(64, identity.PublicKey.Fingerprint.Length);
    }
}
