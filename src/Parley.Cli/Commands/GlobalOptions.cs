using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>Options every client command understands.</summary>
internal static class GlobalOptions
{
    internal static readonly Option<string?> Profile = new("--profile")
    {
        Description = "Profile directory. Env PARLEY_PROFILE. Default: the profile under $XDG_DATA_HOME/parley.",
        Recursive = true,
    };
}
