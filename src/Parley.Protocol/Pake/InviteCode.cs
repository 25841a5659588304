using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.Pake;

/// <summary>
/// An invite code, <c>&lt;nameplate&gt;-&lt;word&gt;-&lt;word&gt;</c> (for example <c>42-tiger-velvet</c>):
/// the nameplate is a short number the server allocates so that both sides find the same
/// rendezvous; the two words, drawn uniformly and independently from Parley's embedded word list,
/// are the secret. The SPAKE2 password is the UTF-8 of the canonical form (<see cref="ToString"/>):
/// nameplate in decimal without leading zeros, lowercase words, single dashes.
/// <para>
/// The code is meant to be shown to and read out by people, so <see cref="ToString"/> returns it;
/// it is a short-lived secret all the same and must not be logged.
/// </para>
/// </summary>
public sealed class InviteCode : IEquatable<InviteCode>
{
    /// <summary>The largest nameplate: six decimal digits.</summary>
    public const uint MaxNameplate = 999_999;

    private const int MaxNameplateDigits = 6;

    private const int MaxInputLength = 128;

    private readonly string canonical;

    private InviteCode(uint nameplate, string firstWord, string secondWord)
    {
        Nameplate = nameplate;
        FirstWord = firstWord;
        SecondWord = secondWord;
        canonical = string.Create(CultureInfo.InvariantCulture, $"{nameplate}-{firstWord}-{secondWord}");
    }

    /// <summary>The rendezvous number the server allocated (0 to 999999). Not secret.</summary>
    public uint Nameplate { get; }

    /// <summary>The first secret word, lowercase.</summary>
    public string FirstWord { get; }

    /// <summary>The second secret word, lowercase.</summary>
    public string SecondWord { get; }

    /// <summary>A new code for <paramref name="nameplate"/> with two words drawn from the CSPRNG.</summary>
    public static InviteCode Generate(uint nameplate)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nameplate, MaxNameplate);
        return new InviteCode(nameplate, WordList.At(RandomWordIndex()), WordList.At(RandomWordIndex()));
    }

    /// <summary>
    /// Reads a code as a person typed it: surrounding white space is ignored, letters may be in
    /// any case, and the three parts may be separated by dashes, spaces or both
    /// (<c>" 42 Tiger velvet "</c> is <c>42-tiger-velvet</c>); the nameplate may have leading zeros.
    /// </summary>
    /// <exception cref="ParleyProtocolException"><see cref="ProtocolErrorKind.Malformed"/>, with a message that says what is wrong (never which word was typed).</exception>
    public static InviteCode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var code, out var problem) ? code : throw Error.InvalidInviteCode(problem);
    }

    /// <summary><see cref="Parse"/> without the exception.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out InviteCode? code) =>
        TryParse(text, out code, out _);

    /// <summary>The canonical form, <c>&lt;nameplate&gt;-&lt;word&gt;-&lt;word&gt;</c>: what people read out and type.</summary>
    public override string ToString() => canonical;

    /// <inheritdoc/>
    public bool Equals(InviteCode? other) => other is not null && string.Equals(canonical, other.canonical, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as InviteCode);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(canonical);

    /// <summary>The SPAKE2 password: UTF-8 of the canonical form. The caller wipes it.</summary>
    internal byte[] ToPasswordBytes() => Encoding.UTF8.GetBytes(canonical);

    private static bool TryParse(string? text, [NotNullWhen(true)] out InviteCode? code, out string problem)
    {
        code = null;
        if (text is null)
        {
            problem = "no code was given";
            return false;
        }

        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length > MaxInputLength)
        {
            problem = "it is too long; a code looks like 42-tiger-velvet";
            return false;
        }

        var parts = Split(trimmed);
        if (parts.Count != 3)
        {
            problem = "expected a number and two words, like 42-tiger-velvet";
            return false;
        }

        if (!TryParseNameplate(parts[0], out var nameplate))
        {
            problem = "it must start with the nameplate, a number of 1 to 6 digits";
            return false;
        }

        if (!TryParseWord(parts[1], out var first))
        {
            problem = "the first word is not in Parley's word list";
            return false;
        }

        if (!TryParseWord(parts[2], out var second))
        {
            problem = "the second word is not in Parley's word list";
            return false;
        }

        code = new InviteCode(nameplate, first, second);
        problem = string.Empty;
        return true;
    }

    /// <summary>Splits at runs of white space and dashes (any Unicode dash, so pasted en dashes work).</summary>
    private static List<string> Split(ReadOnlySpan<char> text)
    {
        var parts = new List<string>(3);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var separator = i == text.Length || char.IsWhiteSpace(text[i]) || char.GetUnicodeCategory(text[i]) == UnicodeCategory.DashPunctuation;
            if (separator && start >= 0)
            {
                parts.Add(text[start..i].ToString());
                start = -1;
            }
            else if (!separator && start < 0)
            {
                start = i;
            }
        }

        return parts;
    }

    private static bool TryParseNameplate(string part, out uint nameplate)
    {
        nameplate = 0;
        if (part.Length > MaxNameplateDigits || !part.All(char.IsAsciiDigit))
        {
            return false;
        }

        nameplate = uint.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    private static bool TryParseWord(string part, out string word)
    {
        word = string.Empty;
        return part.Length <= WordList.MaxWordLength
            && part.All(char.IsAsciiLetter)
            && WordList.TryFind(part.ToLowerInvariant(), out word);
    }

    /// <summary>A uniform index into the word list: 16 random bits, masked to the next power of two, rejected if past the end.</summary>
    private static int RandomWordIndex()
    {
        var mask = (int)(BitOperations.RoundUpToPowerOf2((uint)WordList.Count) - 1);
        Span<byte> draw = stackalloc byte[sizeof(ushort)];
        while (true)
        {
            RandomSource.Fill(draw);
            var candidate = BinaryPrimitives.ReadUInt16BigEndian(draw) & mask;
            if (candidate < WordList.Count)
            {
                return candidate;
            }
        }
    }
}
