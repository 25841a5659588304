using System.Security.Cryptography;
using Parley.Protocol.Pake;

namespace Parley.Protocol.Tests.Pake;

/// <summary>
/// The invite word list keeps the properties docs/threat-model.md states: its size (hence the
/// code's entropy), short lowercase words, and no two words one typo apart.
/// </summary>
public class WordListTests
{
    /// <summary>N; docs/threat-model.md states log2(N²) = 21.66 bits for two words.</summary>
    private const int ExpectedCount = 1819;

    /// <summary>SHA-256 of the embedded file: changing the list is a protocol change (codes stop parsing on older clients).</summary>
    private const string ExpectedSha256 = "fc491e1fa4173a448b1e0e187226fd609f13eb3afd4699e5422d931470c78956";

    [Fact]
    public void HasTheDocumentedSizeAndEntropy()
    {
        Assert.Equal(ExpectedCount, WordList.Count);
        Assert.Equal(21.66, Math.Round(2 * Math.Log2(WordList.Count), 2));
    }

    [Fact]
    public void IsTheDocumentedFile()
    {
        using var stream = typeof(WordList).Assembly.GetManifestResourceStream(WordList.ResourceName);
        Assert.NotNull(stream);

        Assert.Equal(ExpectedSha256, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    [Fact]
    public void WordsAreShortLowercaseSortedAndDistinct()
    {
        Assert.All(WordList.All, word =>
        {
            Assert.InRange(word.Length, WordList.MinWordLength, WordList.MaxWordLength);
            Assert.True(word.All(char.IsAsciiLetterLower), word);
        });
        Assert.Equal(WordList.All.Order(StringComparer.Ordinal), WordList.All);
        Assert.Equal(WordList.Count, WordList.All.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NoTwoWordsAreOneTypoApart()
    {
        // Optimal string alignment distance ≥ 2: one substitution, insertion, deletion or swap of
        // neighbours never turns a word of the list into another.
        var words = WordList.All;
        for (var i = 0; i < words.Count; i++)
        {
            for (var j = i + 1; j < words.Count; j++)
            {
                if (Math.Abs(words[i].Length - words[j].Length) <= 1 && Distance(words[i], words[j]) < 2)
                {
                    Assert.Fail($"{words[i]} and {words[j]} are one typo apart");
                }
            }
        }
    }

    [Theory]
    [InlineData("cash")]
    [InlineData("cache")]
    [InlineData("hole")]
    [InlineData("whole")]
    [InlineData("april")]
    [InlineData("google")]
    [InlineData("yoyo")]
    public void HomophonesAndNamesAreNotWords(string word)
    {
        Assert.False(WordList.TryFind(word, out _));
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus swaps of neighbours).</summary>
    private static int Distance(string a, string b)
    {
        var width = b.Length + 1;
        Span<int> d = stackalloc int[(a.Length + 1) * width];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i * width] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var best = Math.Min(Math.Min(d[((i - 1) * width) + j] + 1, d[(i * width) + j - 1] + 1), d[((i - 1) * width) + j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, d[((i - 2) * width) + j - 2] + 1);
                }

                d[(i * width) + j] = best;
            }
        }

        return d[(a.Length * width) + b.Length];
    }
}
