using System.CommandLine;
using Parley.Cli.Commands;

var root = new RootCommand("Parley: a self-hosted end-to-end encrypted messenger (server and client in one program).");
root.Subcommands.Add(ServeCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
