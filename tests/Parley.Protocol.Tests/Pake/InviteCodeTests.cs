using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Parley.Protocol.Pake;
using Parley.Protocol.Tests.Vectors;

namespace Parley.Protocol.Tests.Pake;

/// <summary>Invite codes: <c>&lt;nameplate&gt;-&lt;word&gt;-&lt;word&gt;</c>, read as people type them.</summary>
public class InviteCodeTests
{
    [Theory]
    [InlineData("42-tiger-velvet")]
    [InlineData("  42-tiger-velvet\n")]
    [InlineData("42 tiger velvet")]
    [InlineData("42 - Tiger -- VELVET")]
    [InlineData("0042-tiger-velvet")]
    [InlineData("42\u2013tiger\u2013velvet")]
    [InlineData("42\ttiger velvet")]
    public void ParseAcceptsWhatPeopleTypeAndCanonicalises(string typed)
    {
        var code = InviteCode.Parse(typed);

        Assert.Equal("42-tiger-velvet", code.ToString());
        Assert.Equal(42u, code.Nameplate);
        Assert.Equal("tiger", code.FirstWord);
        Assert.Equal("velvet", code.SecondWord);
        Assert.Equal(InviteCode.Parse("42-tiger-velvet"), code);
    }

    [Fact]
    public void PasswordIsTheUtf8OfTheCanonicalCode()
    {
        Assert.Equal("7-acid-zoom"u8.ToArray(), InviteCode.Parse("007 ACID zoom").ToPasswordBytes());
        Assert.Equal("0-acid-zoom"u8.ToArray(), InviteCode.Parse("000000-acid-zoom").ToPasswordBytes());
    }

    [Theory]
    [InlineData("", "expected a number and two words")]
    [InlineData("42-tiger", "expected a number and two words")]
    [InlineData("42-tiger-velvet-zoom", "expected a number and two words")]
    [InlineData("tiger-42-velvet", "must start with the nameplate")]
    [InlineData("1234567-tiger-velvet", "must start with the nameplate")]
    [InlineData("4x2-tiger-velvet", "must start with the nameplate")]
    [InlineData("42-tigre-velvet", "the first word is not in Parley's word list")]
    [InlineData("42-tiger-velvett", "the second word is not in Parley's word list")]
    [InlineData("42-tiger-v3lvet", "the second word is not in Parley's word list")]
    [InlineData("42-tïger-velvet", "the first word is not in Parley's word list")]
    public void ParseExplainsWhatIsWrong(string typed, string reason)
    {
        var error = Assert.Throws<ParleyProtocolException>(() => InviteCode.Parse(typed));

        Assert.Equal(ProtocolErrorKind.Malformed, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(InviteCode.TryParse(typed, out _));
    }

    [Fact]
    public void AnUnknownWordIsNotEchoedInTheError()
    {
        // A mistyped word is one letter from the secret; the message must not carry it into logs.
        var error = Assert.Throws<ParleyProtocolException>(() => InviteCode.Parse("42-tiger-velvot"));

        Assert.DoesNotContain("velvot", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("tiger", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ParseRejectsNullAndOverlongInput()
    {
        Assert.Throws<ArgumentNullException>("text", () => InviteCode.Parse(null!));
        Assert.False(InviteCode.TryParse(null, out _));
        Assert.False(InviteCode.TryParse("42-tiger-" + new string('a', 200), out _));
    }

    [Fact]
    public void GenerateChecksTheNameplate()
    {
        Assert.Equal(InviteCode.MaxNameplate, InviteCode.Generate(InviteCode.MaxNameplate).Nameplate);
        Assert.Throws<ArgumentOutOfRangeException>("nameplate", () => InviteCode.Generate(InviteCode.MaxNameplate + 1));
    }

    [Fact]
    public void GenerateDrawsEachWordUniformlyByRejection()
    {
        // 16-bit draws masked to 11 bits (2048 ≥ N = 1819); 0x07FF = 2047 is past the end and is drawn again.
        byte[] script = [0xFF, 0xFF, 0x00, 0x00, 0x07, 0x1A];
        var code = ScriptedRandom.Run(script, () => InviteCode.Generate(9));

        Assert.Equal($"9-{WordList.At(0)}-{WordList.At(0x071A)}", code.ToString());
        Assert.Equal("9-abacus-zoom", code.ToString());
    }

    [Fact]
    public void GeneratedCodesDiffer()
    {
        var codes = Enumerable.Range(0, 50).Select(_ => InviteCode.Generate(1).ToString()).ToHashSet();

        Assert.True(codes.Count > 45, "50 codes from 1819² should almost never collide");
    }

    [Property(MaxTest = 300)]
    public void AnyGeneratedCodeParsesBackFromAnyTypedForm(uint nameplate, int seed)
    {
        var code = InviteCode.Generate(nameplate % (InviteCode.MaxNameplate + 1));
        var random = new Random(seed);
        var separators = new[] { "-", " ", " - ", "\u2014", "  " };
        var typed = new StringBuilder();
        typed.Append(random.Next(2) == 0 ? " " : string.Empty);
        typed.Append(new string('0', random.Next(3) == 0 ? 6 - code.Nameplate.ToString(System.Globalization.CultureInfo.InvariantCulture).Length : 0));
        typed.Append(code.Nameplate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var word in new[] { code.FirstWord, code.SecondWord })
        {
            typed.Append(separators[random.Next(separators.Length)]);
            typed.Append(string.Concat(word.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : c)));
        }

        Assert.Equal(code, InviteCode.Parse(typed.ToString()));
        Assert.Equal(code.ToString(), InviteCode.Parse(code.ToString()).ToString());
    }
}
