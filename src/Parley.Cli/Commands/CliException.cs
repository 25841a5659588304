namespace Parley.Cli.Commands;

/// <summary>A user error found by the CLI itself; printed as one line.</summary>
internal sealed class CliException(string message) : Exception(message);
