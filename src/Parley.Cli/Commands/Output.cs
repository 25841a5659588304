namespace Parley.Cli.Commands;

/// <summary>How the CLI reports: one clear line on stderr for an error, and a non-zero exit code.</summary>
internal static class Output
{
    internal const int ErrorExitCode = 1;

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"parley: error: {OneLine(message)}");
        return ErrorExitCode;
    }

    /// <summary>
    /// A message from below (a socket or TLS exception inside a gRPC status) may span lines, such
    /// as .NET's "Cannot access a disposed object.\nObject name: ..."; the error stays one line.
    /// </summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
