using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using Parley.Protocol.Identity;
using Parley.Protocol.Pake;

namespace Parley.Protocol.Tests.Pake;

/// <summary>The channel keyed from Ke (docs/protocol.md §12.3): derivation, records, binding signatures.</summary>
public class PakeChannelTests
{
    private static readonly byte[] Ke = Convert.FromHexString("0123456789abcdeffedcba9876543210");

    /// <summary>
    /// Known answer computed independently: the BCL's HKDF (RFC 5869) and AesGcm, the labels of
    /// §12.3 and the RFC 8446 §5.3 nonce, against the channel (libsodium or OpenSSL underneath).
    /// </summary>
    [Fact]
    public void RecordsMatchAnIndependentHkdfAndAesGcmComputation()
    {
        using var a = PakeChannel.EstablishCore(Spake2Role.A, Ke);
        var plaintext = "hello, bob"u8.ToArray();
        var first = a.Seal(plaintext);
        var second = a.Seal(plaintext);

        var keyAndIv = HKDF.DeriveKey(HashAlgorithmName.SHA256, Ke, 44, salt: [], info: "parley-pake-channel-v1 A to B"u8.ToArray());
        using var gcm = new AesGcm(keyAndIv.AsSpan(0, 32), 16);
        for (ulong number = 0; number < 2; number++)
        {
            var nonce = keyAndIv.AsSpan(32, 12).ToArray();
            nonce[11] ^= (byte)number;
            var expected = new byte[plaintext.Length + 16];
            gcm.Encrypt(nonce, plaintext, expected.AsSpan(0, plaintext.Length), expected.AsSpan(plaintext.Length), "parley-pake-record-v1"u8);
            Assert.Equal(expected, number == 0 ? first : second);
        }

        Assert.Equal(HKDF.DeriveKey(HashAlgorithmName.SHA256, Ke, 32, salt: [], info: "parley-pake-binding-v1"u8.ToArray()), a.Binding.ToArray());
        Assert.Equal(HKDF.DeriveKey(HashAlgorithmName.SHA256, Ke, 32, salt: [], info: "parley-pake-ratchet-v1"u8.ToArray()), a.DeriveRatchetSecret());
    }

    [Fact]
    public void BothDirectionsCarryRecordsInOrder()
    {
        using var a = PakeChannel.EstablishCore(Spake2Role.A, Ke);
        using var b = PakeChannel.EstablishCore(Spake2Role.B, Ke);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal([(byte)i], b.Open(a.Seal([(byte)i])));
            Assert.Equal([(byte)(10 + i)], a.Open(b.Seal([(byte)(10 + i)])));
        }

        Assert.Equal(a.Binding.ToArray(), b.Binding.ToArray());
    }

    [Fact]
    public void ReorderedRepeatedReflectedOrAlteredRecordsAreTampered()
    {
        using var a = PakeChannel.EstablishCore(Spake2Role.A, Ke);
        using var b = PakeChannel.EstablishCore(Spake2Role.B, Ke);
        var first = a.Seal("one"u8);
        var second = a.Seal("two"u8);

        Assert.Equal(ProtocolErrorKind.Tampered, Assert.Throws<ParleyProtocolException>(() => b.Open(second)).Kind);
        Assert.Equal("one"u8.ToArray(), b.Open(first));
        Assert.Equal(ProtocolErrorKind.Tampered, Assert.Throws<ParleyProtocolException>(() => b.Open(first)).Kind);

        // A's own record sent back to A (reflection) is under the other direction's key.
        Assert.Equal(ProtocolErrorKind.Tampered, Assert.Throws<ParleyProtocolException>(() => a.Open(first)).Kind);

        var altered = (byte[])second.Clone();
        altered[0] ^= 1;
        Assert.Equal(ProtocolErrorKind.Tampered, Assert.Throws<ParleyProtocolException>(() => b.Open(altered)).Kind);
        Assert.Equal("two"u8.ToArray(), b.Open(second));
        Assert.Equal(ProtocolErrorKind.Malformed, Assert.Throws<ParleyProtocolException>(() => b.Open(new byte[15])).Kind);
    }

    [Fact]
    public void BindingSignatureVerifiesOnlyForTheSignerInItsOwnRole()
    {
        using var alice = IdentityKeyPair.Generate();
        using var mallory = IdentityKeyPair.Generate();
        using var a = PakeChannel.EstablishCore(Spake2Role.A, Ke);
        using var b = PakeChannel.EstablishCore(Spake2Role.B, Ke);
        using var other = PakeChannel.EstablishCore(Spake2Role.B, Convert.FromHexString("00000000000000000000000000000001"));
        var signature = a.SignBinding(alice);

        Assert.True(b.VerifyPeerBinding(alice.PublicKey, signature));
        Assert.False(b.VerifyPeerBinding(mallory.PublicKey, signature));
        Assert.False(a.VerifyPeerBinding(alice.PublicKey, signature));
        Assert.False(other.VerifyPeerBinding(alice.PublicKey, signature));
    }

    [Fact]
    public void ChannelDoesNotOpenBeforeBothConfirmationsVerified()
    {
        var code = InviteCode.Parse("7-tiger-velvet");
        using var a = Spake2Party.StartAsA(code, [], []);
        using var b = Spake2Party.StartAsB(code, [], []);
        Assert.Throws<InvalidOperationException>(() => PakeChannel.Establish(a));
        var confirmationA = a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        Assert.Throws<InvalidOperationException>(() => PakeChannel.Establish(a));
        b.VerifyPeerConfirmation(confirmationA);
        a.VerifyPeerConfirmation(confirmationB);

        using var channelA = PakeChannel.Establish(a);
        using var channelB = PakeChannel.Establish(b);
        Assert.Equal("hi"u8.ToArray(), channelB.Open(channelA.Seal("hi"u8)));
    }

    [Fact]
    public void OversizedRecordIsRefused()
    {
        using var a = PakeChannel.EstablishCore(Spake2Role.A, Ke);
        Assert.Throws<ArgumentException>("plaintext", () => a.Seal(new byte[PakeChannel.MaxPlaintextSize + 1]));
    }

    /// <summary>Any two different Ke: the channels do not interoperate in either direction.</summary>
    [Property(MaxTest = 50)]
    public void DifferentKeysNeverInteroperate(Guid first, Guid second, NonEmptyArray<byte> payload)
    {
        var keyA = first.ToByteArray();
        var keyB = second.ToByteArray();
        if (keyA.AsSpan().SequenceEqual(keyB))
        {
            return;
        }

        using var a = PakeChannel.EstablishCore(Spake2Role.A, keyA);
        using var b = PakeChannel.EstablishCore(Spake2Role.B, keyB);
        Assert.Throws<ParleyProtocolException>(() => b.Open(a.Seal(payload.Get)));
        Assert.Throws<ParleyProtocolException>(() => a.Open(b.Seal(payload.Get)));
        Assert.NotEqual(a.Binding.ToArray(), b.Binding.ToArray());
    }
}
