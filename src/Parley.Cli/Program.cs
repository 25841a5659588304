using System.CommandLine;
using Parley.Cli.Commands;

var root = new RootCommand("Parley: a self-hosted end-to-end encrypted messenger (server and client in one program).");
root.Options.Add(GlobalOptions.Profile);
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(RegisterCommand.Create());
root.Subcommands.Add(WhoamiCommand.Create());
root.Subcommands.Add(ContactsCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(SendCommand.Create());
root.Subcommands.Add(InboxCommand.Create());
root.Subcommands.Add(HistoryCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(InviteCommand.Create());
root.Subcommands.Add(JoinCommand.Create());
root.Subcommands.Add(AdminCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
