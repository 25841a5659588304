using System.CommandLine;
using Parley.Load;

var root = new RootCommand("parley-load: load generator for the Parley relay (throughput, latency, connections, offline drain) and its plots.");
foreach (var command in LoadCommands.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
