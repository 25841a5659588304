using System.CommandLine;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>`parley contacts add|list|remove|accept-key`.</summary>
internal static class ContactsCommand
{
    internal static Command Create()
    {
        var command = new Command("contacts", "Manage contacts and their pinned identity keys.");

        var addName = new Argument<string>("name");
        var add = new Command("add", "Look a user up on the server, check their certificate and pin their key.") { addName };
        add.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var identity = await messenger.LookUpAsync(result.GetValue(addName)!, ct).ConfigureAwait(false);
            Console.WriteLine($"added {result.GetValue(addName)!.ToLowerInvariant()} ({identity.Fingerprint}); compare safety numbers with `parley verify {result.GetValue(addName)!.ToLowerInvariant()}`");
            return 0;
        }, cancellationToken));

        var list = new Command("list", "List contacts with their verification state.");
        list.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), (messenger, _) =>
        {
            var contacts = messenger.Profile.ListContacts();
            if (contacts.Count == 0)
            {
                Console.WriteLine("no contacts yet");
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("name", "identity", "state");
            foreach (var contact in contacts)
            {
                var state = contact.KeyChanged ? "[red]KEY CHANGED[/]" : contact.Verified ? "[green]verified[/]" : "not verified";
                table.AddRow(Markup.Escape(contact.Name), Markup.Escape(contact.Fingerprint ?? "-"), state);
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }, cancellationToken));

        var removeName = new Argument<string>("name");
        var remove = new Command("remove", "Forget a contact and its pinned key.") { removeName };
        remove.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), (messenger, _) =>
        {
            var name = result.GetValue(removeName)!.ToLowerInvariant();
            if (!messenger.Profile.RemoveContact(name))
            {
                throw new CliException($"no contact \"{name}\"");
            }

            Console.WriteLine($"removed {name}");
            return Task.FromResult(0);
        }, cancellationToken));

        var acceptName = new Argument<string>("name");
        var accept = new Command("accept-key", "Accept a contact's changed identity key (after checking it with them).") { acceptName };
        accept.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), (messenger, _) =>
        {
            var name = result.GetValue(acceptName)!.ToLowerInvariant();
            var offered = messenger.Profile.GetOfferedIdentity(name) ?? throw new CliException($"no changed key is pending for \"{name}\"");
            messenger.Profile.AcceptChangedKey(name, offered);
            messenger.Profile.DeleteSession(name);
            Console.WriteLine($"accepted the new key of {name} ({offered.Fingerprint}); it is not verified: compare safety numbers with `parley verify {name}`");
            return Task.FromResult(0);
        }, cancellationToken));

        command.Subcommands.Add(add);
        command.Subcommands.Add(list);
        command.Subcommands.Add(remove);
        command.Subcommands.Add(accept);
        return command;
    }
}
