using System.CommandLine;
using Parley.Protocol.Identity;

namespace Parley.Cli.Commands;

/// <summary>`parley verify NAME [--confirm]`.</summary>
internal static class VerifyCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name");
        var confirm = new Option<bool>("--confirm") { Description = "Mark the contact verified (after comparing the number with them)." };
        var command = new Command("verify", "Show the safety number to compare with a contact out of band.") { name, confirm };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var peer = result.GetValue(name)!.ToLowerInvariant();
            if (messenger.Profile.GetPinnedIdentity(peer) is null)
            {
                await messenger.LookUpAsync(peer, ct).ConfigureAwait(false);
            }

            var number = messenger.SafetyNumberWith(peer) ?? throw new CliException($"no key pinned for \"{peer}\"");
            var pinned = messenger.Profile.GetPinnedIdentity(peer)!;
            Console.WriteLine($"safety number with {peer}:");
            Console.WriteLine($"  {SafetyNumber.Format(number)}");
            if (result.GetValue(confirm))
            {
                if (!messenger.Profile.MarkVerified(peer, pinned))
                {
                    throw new CliException($"could not mark {peer} verified: the pinned key changed");
                }

                Console.WriteLine($"{peer} is now verified");
            }
            else
            {
                Console.WriteLine($"if {peer} sees the same number, run `parley verify {peer} --confirm`");
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
