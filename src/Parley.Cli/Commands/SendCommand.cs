using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley send NAME TEXT` (TEXT "-" reads standard input).</summary>
internal static class SendCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The recipient." };
        var text = new Argument<string>("text") { Description = "The message, or - to read it from standard input." };
        var command = new Command("send", "Send an end-to-end encrypted message; works while the recipient is offline.") { name, text };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var body = result.GetValue(text)!;
            if (body == "-")
            {
                body = (await Console.In.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\n', '\r');
            }

            if (body.Length == 0)
            {
                throw new CliException("the message is empty");
            }

            var id = await messenger.SendAsync(result.GetValue(name)!, body, ct).ConfigureAwait(false);
            Console.WriteLine($"sent {id[..8]} to {result.GetValue(name)!.ToLowerInvariant()}");
            return 0;
        }, cancellationToken));
        return command;
    }
}
