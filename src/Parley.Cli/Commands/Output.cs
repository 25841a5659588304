namespace Parley.Cli.Commands;

/// <summary>How the CLI reports: one clear line on stderr for an error, and a non-zero exit code.</summary>
internal static class Output
{
    internal const int ErrorExitCode = 1;

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"parley: error: {message}");
        return ErrorExitCode;
    }
}
