using System.Diagnostics.CodeAnalysis;

namespace Parley.Protocol.Certificates;

/// <summary>
/// The syntax of a Parley user name, the CN of a user certificate: 1 to 32 characters of
/// lowercase a-z, 0-9, '.', '_' and '-', starting with a letter. Callers case-fold first.
/// </summary>
internal static class UserNameSyntax
{
    /// <summary>Longest user name.</summary>
    internal const int MaxLength = 32;

    /// <summary>Whether <paramref name="name"/> is a well-formed user name.</summary>
    internal static bool IsValid([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] is < 'a' or > 'z')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
