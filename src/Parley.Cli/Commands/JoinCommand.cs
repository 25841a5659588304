using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley join CODE`: completes someone's `parley invite`; the inviter becomes a verified contact.</summary>
internal static class JoinCommand
{
    internal static Command Create()
    {
        var code = new Argument<string>("code") { Description = "The code the other person read out, like 42-tiger-velvet." };
        var command = new Command("join", "Join an invitation with its code; the inviter becomes a verified contact.") { code };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var peer = await messenger.JoinAsync(result.GetValue(code)!, ct).ConfigureAwait(false);
            InviteCommand.PrintVerified(peer);
            return 0;
        }, cancellationToken));
        return command;
    }
}
