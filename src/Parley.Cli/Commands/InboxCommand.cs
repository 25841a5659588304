using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley inbox [--follow] [--json]`.</summary>
internal static class InboxCommand
{
    internal static Command Create()
    {
        var follow = new Option<bool>("--follow") { Description = "Keep receiving until interrupted." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line." };
        var command = new Command("inbox", "Fetch and show the messages that are new since the last inbox.") { follow, json };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var asJson = result.GetValue(json);
            await messenger.FlushOutboxAsync(ct).ConfigureAwait(false);
            if (result.GetValue(follow))
            {
                try
                {
                    await messenger.ReceiveAsync(m => MessageOutput.Write(m, asJson), TimeSpan.Zero, follow: true, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C ends --follow; everything shown is stored.
                }

                messenger.Profile.TakeUnshown();
                return 0;
            }

            await messenger.ReceiveAsync(_ => { }, TimeSpan.FromSeconds(10), follow: false, ct).ConfigureAwait(false);
            var unshown = messenger.Profile.TakeUnshown();
            foreach (var entry in unshown)
            {
                MessageOutput.Write(entry, messenger.UserName, asJson);
            }

            if (unshown.Count == 0 && !asJson)
            {
                Console.WriteLine("no new messages");
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
