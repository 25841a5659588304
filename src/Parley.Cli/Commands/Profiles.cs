namespace Parley.Cli.Commands;

/// <summary>
/// Where profiles live and which one a command uses: --profile DIR, else PARLEY_PROFILE, else the
/// only profile under $XDG_DATA_HOME/parley (a profile directory is named after its user).
/// </summary>
internal static class Profiles
{
    internal static string Root()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "parley");
    }

    /// <summary>The directory a new profile for <paramref name="name"/> is created in.</summary>
    internal static string ForNewUser(string? explicitDirectory, string name)
    {
        if (explicitDirectory is not null)
        {
            return explicitDirectory;
        }

        return Environment.GetEnvironmentVariable("PARLEY_PROFILE") is { Length: > 0 } env ? env : Path.Combine(Root(), name);
    }

    /// <summary>The existing profile a command works on.</summary>
    internal static string Existing(string? explicitDirectory)
    {
        if (explicitDirectory is not null)
        {
            return explicitDirectory;
        }

        if (Environment.GetEnvironmentVariable("PARLEY_PROFILE") is { Length: > 0 } env)
        {
            return env;
        }

        var root = Root();
        var candidates = Directory.Exists(root)
            ? Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "profile.db"))).ToList()
            : [];
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new CliException("no profile yet: run `parley register NAME --server URL` first (or pass --profile DIR)"),
            _ => throw new CliException($"several profiles under {root}: choose one with --profile DIR or PARLEY_PROFILE"),
        };
    }
}
