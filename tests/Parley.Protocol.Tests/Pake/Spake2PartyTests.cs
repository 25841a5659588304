using Parley.Protocol.Pake;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Parley.Protocol.Tests.Pake;

/// <summary>What <see cref="Spake2Party"/> promises: one attempt, typed errors, validated points, wiped secrets.</summary>
public class Spake2PartyTests
{
    private static readonly BigInteger W = Exchange.RandomW(new Random(9382));

    [Fact]
    public void SameInviteCodeAgreesOnAKeyThroughThePublicApi()
    {
        var code = InviteCode.Parse("42-tiger-velvet");
        using var a = Spake2Party.StartAsA(code, "alice"u8, "bob"u8);
        using var b = Spake2Party.StartAsB(InviteCode.Parse("42 TIGER velvet"), "alice"u8, "bob"u8);

        Assert.Equal(Spake2Party.MessageSize, a.Message.Length);
        Assert.Equal(0x04, a.Message[0]);
        var confirmationA = a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        Assert.Equal(Spake2Party.ConfirmationSize, confirmationA.Length);

        var keyB = b.VerifyPeerConfirmation(confirmationA).ToArray();
        var keyA = a.VerifyPeerConfirmation(confirmationB).ToArray();
        Assert.Equal(Spake2Party.SharedKeySize, keyA.Length);
        Assert.Equal(keyA, keyB);
    }

    [Fact]
    public void WrongCodeIsCodeMismatchOnBothSides()
    {
        using var a = Spake2Party.StartAsA(InviteCode.Parse("42-tiger-velvet"), [], []);
        using var b = Spake2Party.StartAsB(InviteCode.Parse("42-tiger-violet"), [], []);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeA.Error);
        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeB.Error);
    }

    [Fact]
    public void PassphraseOverloadMatchesTheInviteCodeOverload()
    {
        using var a = Spake2Party.StartAsA("42-tiger-velvet"u8, [], []);
        using var b = Spake2Party.StartAsB(InviteCode.Parse("42-tiger-velvet"), [], []);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        Assert.True(outcomeA.Succeeded && outcomeB.Succeeded);
    }

    [Fact]
    public void BothSidesPlayingAFailsWithCodeMismatch()
    {
        // Roles are part of the protocol (RFC 9382 §3.1): two A's blind with the same M and never agree.
        using var a = Exchange.Side(Spake2Role.A, W);
        using var alsoA = Exchange.Side(Spake2Role.A, W);

        var (outcome1, outcome2) = Exchange.Run(a, alsoA);

        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcome1.Error);
        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcome2.Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(66)]
    public void FinishWithAMessageOfTheWrongLengthIsMalformed(int length)
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        var message = new byte[length];
        if (length > 0)
        {
            message[0] = 0x04;
        }

        var error = Assert.Throws<ParleyProtocolException>(() => a.Finish(message));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public void FinishWithACompressedPointIsMalformed()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        Assert.True(Spake2Group.TryDecodeElement(b.Message, out var point));
        var compressed = point.GetEncoded(true);

        var error = Assert.Throws<ParleyProtocolException>(() => a.Finish(compressed));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0x03)]
    [InlineData(0x06)]
    public void FinishWithAnotherPrefixIsMalformed(byte prefix)
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        var message = b.Message;
        message[0] = prefix;

        var error = Assert.Throws<ParleyProtocolException>(() => a.Finish(message));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public void FinishWithAPointOffTheCurveIsInvalidKey()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        var message = b.Message;
        message[^1] ^= 0x01; // y no longer matches x

        var error = Assert.Throws<ParleyProtocolException>(() => a.Finish(message));
        Assert.Equal(ProtocolErrorKind.InvalidKey, error.Kind);
    }

    [Fact]
    public void FinishWithCoordinatesAboveTheFieldPrimeIsInvalidKey()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        var message = new byte[Spake2Party.MessageSize];
        message.AsSpan().Fill(0xFF);
        message[0] = 0x04;

        var error = Assert.Throws<ParleyProtocolException>(() => a.Finish(message));
        Assert.Equal(ProtocolErrorKind.InvalidKey, error.Kind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FinishWithAShareThatCancelsTheBlindingIsInvalidKey(bool asA)
    {
        // pB = w*N (or pA = w*M) would make K the identity; only someone who knows w can send it.
        var role = asA ? Spake2Role.A : Spake2Role.B;
        using var side = Exchange.Side(role, W);
        var cancelling = Spake2Group.Encode(Spake2Group.MultiplyFixed(role == Spake2Role.A ? Spake2Group.N : Spake2Group.M, W));

        var error = Assert.Throws<ParleyProtocolException>(() => side.Finish(cancelling));
        Assert.Equal(ProtocolErrorKind.InvalidKey, error.Kind);
    }

    [Fact]
    public void AFailedFinishEndsTheAttempt()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        Assert.Throws<ParleyProtocolException>(() => a.Finish(new byte[3]));

        Assert.Throws<InvalidOperationException>(() => a.Finish(b.Message));
    }

    [Fact]
    public void AWrongConfirmationEndsTheAttempt()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        var wrong = (byte[])confirmationB.Clone();
        wrong[0] ^= 0x80;

        var error = Assert.Throws<ParleyProtocolException>(() => a.VerifyPeerConfirmation(wrong));
        Assert.Equal(ProtocolErrorKind.CodeMismatch, error.Kind);

        // The right confirmation no longer helps: one guess per attempt.
        Assert.Throws<InvalidOperationException>(() => a.VerifyPeerConfirmation(confirmationB));
        Assert.Throws<InvalidOperationException>(() => a.Finish(b.Message));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void AConfirmationOfTheWrongLengthIsMalformedAndEndsTheAttempt(int length)
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);

        var error = Assert.Throws<ParleyProtocolException>(() => a.VerifyPeerConfirmation(new byte[length]));
        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
        Assert.Throws<InvalidOperationException>(() => a.VerifyPeerConfirmation(confirmationB));
    }

    [Fact]
    public void ASucceededExchangeRefusesFurtherUse()
    {
        using var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        a.VerifyPeerConfirmation(confirmationB);

        Assert.Throws<InvalidOperationException>(() => a.VerifyPeerConfirmation(confirmationB));
        Assert.Throws<InvalidOperationException>(() => a.Finish(b.Message));
    }

    [Fact]
    public void VerifyBeforeFinishIsRefused()
    {
        using var a = Exchange.Side(Spake2Role.A, W);

        Assert.Throws<InvalidOperationException>(() => a.VerifyPeerConfirmation(new byte[Spake2Party.ConfirmationSize]));
    }

    [Fact]
    public void DisposeWipesTheSharedKeyAndRefusesUse()
    {
        var a = Exchange.Side(Spake2Role.A, W);
        using var b = Exchange.Side(Spake2Role.B, W);
        a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        var key = a.VerifyPeerConfirmation(confirmationB);
        Assert.Contains(key.ToArray(), value => value != 0);

        a.Dispose();

        Assert.All(key.ToArray(), value => Assert.Equal(0, value));
        Assert.Throws<ObjectDisposedException>(() => a.Finish(b.Message));
    }

    [Fact]
    public void ToStringRevealsNothing()
    {
        using var a = Spake2Party.StartAsA(InviteCode.Parse("42-tiger-velvet"), [], []);

        Assert.Equal("Spake2Party", a.ToString());
    }

    [Fact]
    public void StartArgumentsAreChecked()
    {
        Assert.Throws<ArgumentException>("password", () => Spake2Party.StartAsA(ReadOnlySpan<byte>.Empty, [], []));
        Assert.Throws<ArgumentException>("password", () => Spake2Party.StartAsB(ReadOnlySpan<byte>.Empty, [], []));
        Assert.Throws<ArgumentNullException>("code", () => Spake2Party.StartAsA((InviteCode)null!, [], []));
        Assert.Throws<ArgumentOutOfRangeException>("scalar", () => Spake2Party.StartCore(Spake2Role.A, W, BigInteger.Zero, [], [], []));
        Assert.Throws<ArgumentOutOfRangeException>("scalar", () => Spake2Party.StartCore(Spake2Role.A, W, Spake2Group.Order, [], [], []));
        Assert.Throws<ArgumentOutOfRangeException>("w", () => Spake2Party.StartCore(Spake2Role.A, Spake2Group.Order, BigInteger.One, [], [], []));
    }
}
