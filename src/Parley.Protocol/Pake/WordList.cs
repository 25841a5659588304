using System.Collections.Frozen;

namespace Parley.Protocol.Pake;

/// <summary>
/// The invite-code words: <c>Pake/WordList.txt</c>, embedded in the assembly, one word a line,
/// sorted. 1,819 lowercase English words of 3–6 letters drawn from the EFF's short and large
/// diceware lists (CC BY 3.0 US), with no two words within one edit of each other and no word
/// that sounds like another common word; docs/threat-model.md says how it was built.
/// </summary>
internal static class WordList
{
    /// <summary>The manifest name of the embedded list (the project file sets it).</summary>
    internal const string ResourceName = "Parley.Protocol.Pake.WordList.txt";

    internal const int MinWordLength = 3;

    internal const int MaxWordLength = 6;

    private static readonly string[] Words = Load();

    private static readonly FrozenDictionary<string, int> Positions =
        Words.Select((word, index) => KeyValuePair.Create(word, index)).ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>How many words there are (N); a code's two words carry log2(N²) bits.</summary>
    internal static int Count => Words.Length;

    /// <summary>Every word, in order.</summary>
    internal static IReadOnlyList<string> All => Words;

    internal static string At(int index) => Words[index];

    /// <summary>The list's own spelling of <paramref name="lowercaseWord"/>, if it is a word of the list.</summary>
    internal static bool TryFind(string lowercaseWord, out string word)
    {
        if (Positions.TryGetValue(lowercaseWord, out var index))
        {
            word = Words[index];
            return true;
        }

        word = string.Empty;
        return false;
    }

    private static string[] Load()
    {
        using var stream = typeof(WordList).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        var words = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length < MinWordLength || line.Length > MaxWordLength || !line.All(char.IsAsciiLetterLower))
            {
                throw new InvalidOperationException($"{ResourceName} line {words.Count + 1} is not a word of 3 to 6 lowercase letters");
            }

            if (words.Count > 0 && string.CompareOrdinal(words[^1], line) >= 0)
            {
                throw new InvalidOperationException($"{ResourceName} is not sorted and distinct at line {words.Count + 1}");
            }

            words.Add(line);
        }

        return [.. words];
    }
}
