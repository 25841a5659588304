using FsCheck;
using FsCheck.Xunit;
using Parley.Protocol.Pake;
using Org.BouncyCastle.Math;

namespace Parley.Protocol.Tests.Pake;

/// <summary>
/// Invariants of SPAKE2 with key confirmation. The code-level properties run the whole public path
/// (invite code → Argon2id → SPAKE2), which costs a few hundred milliseconds per side, so they run
/// fewer cases; the same invariants over w directly run many more.
/// </summary>
public class Spake2Properties
{
    /// <summary>Same code on both sides: both confirmations verify and both sides hold the same Ke.</summary>
    [Property(MaxTest = 8)]
    public void SameCodeGivesBothSidesTheSameKey(uint nameplate, NonNegativeInt first, NonNegativeInt second)
    {
        var code = Code(nameplate, first.Get, second.Get);
        using var a = Spake2Party.StartAsA(code, "alice"u8, "bob"u8);
        using var b = Spake2Party.StartAsB(InviteCode.Parse(code.ToString()), "alice"u8, "bob"u8);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        Assert.True(outcomeA.Succeeded && outcomeB.Succeeded);
        Assert.Equal(Spake2Party.SharedKeySize, outcomeA.Key!.Length);
        Assert.Equal(outcomeA.Key, outcomeB.Key);
    }

    /// <summary>Any different code (nameplate or either word): confirmation fails on both sides with CodeMismatch.</summary>
    [Property(MaxTest = 8)]
    public void AnyDifferentCodeFailsOnBothSides(uint nameplate, NonNegativeInt first, NonNegativeInt second, PositiveInt change, byte part)
    {
        var code = Code(nameplate, first.Get, second.Get);
        var other = (part % 3) switch
        {
            0 => Code((uint)((nameplate + change.Get) % (InviteCode.MaxNameplate + 1)), first.Get, second.Get),
            1 => Code(nameplate, first.Get + change.Get, second.Get),
            _ => Code(nameplate, first.Get, second.Get + change.Get),
        };
        if (other.Equals(code))
        {
            return; // the change wrapped around to the same code
        }

        using var a = Spake2Party.StartAsA(code, [], []);
        using var b = Spake2Party.StartAsB(other, [], []);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeA.Error);
        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeB.Error);
    }

    /// <summary>Two runs with the same code send unrelated messages: fresh x and y every time.</summary>
    [Property(MaxTest = 4)]
    public void MessagesDifferBetweenRunsWithTheSameCode(uint nameplate, NonNegativeInt first, NonNegativeInt second)
    {
        var code = Code(nameplate, first.Get, second.Get);
        using var a1 = Spake2Party.StartAsA(code, [], []);
        using var a2 = Spake2Party.StartAsA(code, [], []);

        Assert.NotEqual(a1.Message, a2.Message);
        Assert.True(Spake2Group.TryDecodeElement(a1.Message, out _));
        Assert.True(Spake2Group.TryDecodeElement(a2.Message, out _));
    }

    /// <summary>The same invariants with w given directly: equal w agree, any different w fails on both sides.</summary>
    [Property(MaxTest = 200)]
    public void EqualWAgreesAndDifferentWFailsOnBothSides(int seed, bool same)
    {
        var random = new Random(seed);
        var wA = Exchange.RandomW(random);
        var wB = same ? wA : Exchange.RandomW(random);
        using var a = Exchange.Side(Spake2Role.A, wA);
        using var b = Exchange.Side(Spake2Role.B, wB);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        if (wA.Equals(wB))
        {
            Assert.True(outcomeA.Succeeded && outcomeB.Succeeded);
            Assert.Equal(outcomeA.Key, outcomeB.Key);
        }
        else
        {
            Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeA.Error);
            Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeB.Error);
        }
    }

    /// <summary>
    /// Flipping any bit of pA or pB in flight never yields a key on either side: the altered message is
    /// refused (not a point: Malformed or InvalidKey), or it is a point and the confirmations fail.
    /// </summary>
    [Property(MaxTest = 300)]
    public void AnyBitFlipInEitherShareEndsTheExchangeOnBothSides(int seed, NonNegativeInt bit, bool flipA)
    {
        var w = Exchange.RandomW(new Random(seed));
        using var a = Exchange.Side(Spake2Role.A, w);
        using var b = Exchange.Side(Spake2Role.B, w);
        var flip = (Func<byte[], byte[]>)(m => m.Length == Spake2Party.MessageSize ? FlipBit(m, bit.Get % (8 * m.Length)) : m);

        var (outcomeA, outcomeB) = flipA ? Exchange.Run(a, b, toB: flip) : Exchange.Run(a, b, toA: flip);

        Assert.False(outcomeA.Succeeded);
        Assert.False(outcomeB.Succeeded);
        var receiver = flipA ? outcomeB : outcomeA;
        Assert.Contains(receiver.Error, new ProtocolErrorKind?[] { ProtocolErrorKind.Malformed, ProtocolErrorKind.InvalidKey, ProtocolErrorKind.CodeMismatch });
    }

    /// <summary>A valid point substituted for pA or pB (a man in the middle without the code) fails confirmation on both sides.</summary>
    [Property(MaxTest = 100)]
    public void ASubstitutedValidShareFailsConfirmationOnBothSides(int seed, PositiveInt shift, bool replaceA)
    {
        var w = Exchange.RandomW(new Random(seed));
        using var a = Exchange.Side(Spake2Role.A, w);
        using var b = Exchange.Side(Spake2Role.B, w);
        var substitute = (Func<byte[], byte[]>)(m => m.Length == Spake2Party.MessageSize ? Shift(m, shift.Get) : m);

        var (outcomeA, outcomeB) = replaceA ? Exchange.Run(a, b, toB: substitute) : Exchange.Run(a, b, toA: substitute);

        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeA.Error);
        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeB.Error);
    }

    /// <summary>Confirmations and keys are bound to both identities: a different identity on one side fails on both.</summary>
    [Property(MaxTest = 50)]
    public void DifferentIdentitiesFailOnBothSides(int seed, NonEmptyString identity, bool changeA)
    {
        var w = Exchange.RandomW(new Random(seed));
        var name = System.Text.Encoding.UTF8.GetBytes(identity.Get);
        var other = name.Append((byte)'!').ToArray();
        using var a = Exchange.Side(Spake2Role.A, w, name, name);
        using var b = changeA ? Exchange.Side(Spake2Role.B, w, other, name) : Exchange.Side(Spake2Role.B, w, name, other);

        var (outcomeA, outcomeB) = Exchange.Run(a, b);

        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeA.Error);
        Assert.Equal(ProtocolErrorKind.CodeMismatch, outcomeB.Error);
    }

    /// <summary>The code with the given nameplate and words (word indices taken modulo the list).</summary>
    private static InviteCode Code(uint nameplate, int first, int second) =>
        InviteCode.Parse($"{nameplate % (InviteCode.MaxNameplate + 1)}-{WordList.At(first % WordList.Count)}-{WordList.At(second % WordList.Count)}");

    private static byte[] FlipBit(byte[] data, int bit)
    {
        var copy = (byte[])data.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    /// <summary>The message's point plus shift·P: a valid share that its sender did not make.</summary>
    private static byte[] Shift(byte[] message, int shift)
    {
        Assert.True(Spake2Group.TryDecodeElement(message, out var point));
        return Spake2Group.Encode(point.Add(Spake2Group.MultiplyFixed(Spake2Group.Generator, BigInteger.ValueOf(shift))));
    }
}
