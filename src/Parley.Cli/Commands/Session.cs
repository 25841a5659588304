using Parley.Client;
using Parley.Client.Profile;

namespace Parley.Cli.Commands;

/// <summary>Runs a command body with the profile open, turning every user error into one line and exit code 1.</summary>
internal static class Session
{
    internal static async Task<int> RunAsync(string? profileDirectory, Func<Messenger, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            var directory = Profiles.Existing(profileDirectory);
            await using var messenger = Messenger.Open(directory, Passphrase.Get(confirm: false));
            return await body(messenger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Describe(e) is { } line)
        {
            return Output.Fail(line);
        }
    }

    /// <summary>One line for an error a user can cause; null for a bug (which then surfaces with its trace).</summary>
    internal static string? Describe(Exception e) => e switch
    {
        CliException or ClientException or ProfileException => e.Message,
        Protocol.ParleyProtocolException p => p.Message,
        OperationCanceledException => "cancelled",
        _ => null,
    };
}
