using System.Globalization;
using Parley.Bench;

// parley bench: `protocol [--seconds N] [--json] [--no-anchor]` (the benchmark) and
// `primitives [--seconds N] [--filter text]` (every alternative implementation of the primitives).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "protocol";
var seconds = 3.0;
var json = false;
var anchor = true;
string? filter = null;
for (var i = command == args.FirstOrDefault() ? 1 : 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0:
            seconds = s;
            i++;
            break;
        case "--json":
            json = true;
            break;
        case "--no-anchor":
            anchor = false;
            break;
        case "--filter" when i + 1 < args.Length:
            filter = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
            return Usage();
    }
}

switch (command)
{
    case "protocol":
        return ProtocolCommand.Run(seconds, json, anchor);
    case "breakdown":
        Breakdown.Run(seconds);
        return 0;
    case "primitives":
        PrimitiveAlternatives.Run(seconds, filter);
        return 0;
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: Parley.Bench protocol [--seconds N] [--json] [--no-anchor]");
    Console.Error.WriteLine("       Parley.Bench primitives [--seconds N] [--filter text]");
    return 2;
}
