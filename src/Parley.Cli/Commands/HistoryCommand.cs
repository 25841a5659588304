using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley history NAME [--json]`.</summary>
internal static class HistoryCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name");
        var json = new Option<bool>("--json") { Description = "One JSON object per line." };
        var command = new Command("history", "Print the stored conversation with a contact.") { name, json };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), (messenger, _) =>
        {
            foreach (var entry in messenger.Profile.History(result.GetValue(name)!.ToLowerInvariant()))
            {
                MessageOutput.Write(entry, messenger.UserName, result.GetValue(json));
            }

            return Task.FromResult(0);
        }, cancellationToken));
        return command;
    }
}
