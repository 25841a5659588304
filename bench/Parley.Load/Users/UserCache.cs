using System.Globalization;
using Parley.Protocol.Identity;

namespace Parley.Load.Users;

/// <summary>
/// Registered load users kept between runs (name and exported identity, one per line) in a
/// directory keyed by the server's data directory, so a rerun skips registration. The file
/// holds private keys of throwaway benchmark identities only, and is written 0600.
/// </summary>
internal sealed class UserCache(string directory)
{
    private string FilePath => Path.Combine(directory, "users.txt");

    internal List<(string Name, IdentityKeyPair Identity)> Load()
    {
        var users = new List<(string, IdentityKeyPair)>();
        if (!File.Exists(FilePath))
        {
            return users;
        }

        foreach (var line in File.ReadLines(FilePath))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2)
            {
                users.Add((parts[0], IdentityKeyPair.Import(Convert.FromBase64String(parts[1]))));
            }
        }

        return users;
    }

    internal void Append(IEnumerable<(string Name, IdentityKeyPair Identity)> users)
    {
        Directory.CreateDirectory(directory);
        var lines = users.Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.Name} {Convert.ToBase64String(u.Identity.Export())}")).ToList();
        if (!File.Exists(FilePath))
        {
            File.WriteAllText(FilePath, string.Empty);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        File.AppendAllLines(FilePath, lines);
    }

    /// <summary>A short tag unique to this cache, so names do not collide on a shared server.</summary>
    internal string Tag()
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "tag");
        if (!File.Exists(path))
        {
            File.WriteAllText(path, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3)).ToLowerInvariant());
        }

        return File.ReadAllText(path).Trim();
    }
}
