using System.Diagnostics.CodeAnalysis;
using System.Text;
using Parley.Protocol.Certificates;

namespace Parley.Protocol.Identity;

/// <summary>
/// User names as the CA certifies them: 1–32 characters of a-z, 0-9, '.', '_' and '-', starting
/// with a letter. Input is NFKC-normalised and case-folded first, so "Alice" and "alice" are one
/// name; anything outside ASCII is refused, so look-alike letters from other scripts cannot pose
/// as a registered name.
/// </summary>
public static class UserName
{
    /// <summary>Longest name.</summary>
    public const int MaxLength = 32;

    /// <summary>Normalises <paramref name="input"/>; false if it is not a valid name.</summary>
    public static bool TryNormalize(string? input, [NotNullWhen(true)] out string? name)
    {
        name = null;
        if (string.IsNullOrWhiteSpace(input) || input.Length > 4 * MaxLength)
        {
            return false;
        }

        var folded = input.Trim().Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        if (!UserNameSyntax.IsValid(folded))
        {
            return false;
        }

        name = folded;
        return true;
    }
}
