using System.CommandLine;
using System.Text.Json;

namespace Parley.Load.Reporting;

/// <summary>`plot`: PNGs from the JSON lines of earlier runs (latency percentiles; throughput against pairs).</summary>
internal static class PlotCommand
{
    internal static Command Create()
    {
        var input = new Option<string>("--in") { Description = "JSON lines written by --out.", Required = true };
        var output = new Option<string>("--out-dir") { Description = "Where the PNGs go.", DefaultValueFactory = _ => "docs/plots" };
        var command = new Command("plot", "PNG plots from results JSON lines: latency percentiles, throughput against pairs.") { input, output };
        command.SetAction((r, _) =>
        {
            var lines = File.ReadAllLines(r.GetValue(input)!).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var directory = r.GetValue(output)!;
            Directory.CreateDirectory(directory);
            foreach (var written in Plots.Write(lines, directory))
            {
                Console.WriteLine(written);
            }

            return Task.FromResult(0);
        });
        return command;
    }
}
