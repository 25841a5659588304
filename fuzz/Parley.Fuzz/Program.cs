using Parley.Fuzz;
using SharpFuzz;

// parley-fuzz TARGET                 run under afl-fuzz (SharpFuzz out-of-process mode, input on stdin)
// parley-fuzz TARGET --replay PATH   run every file under PATH once, in process (reproduce a finding)
// parley-fuzz TARGET --seeds DIR     write valid inputs for TARGET into DIR (the fuzzer's starting corpus)
if (args.Length == 0 || !FuzzTargets.All.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"usage: parley-fuzz TARGET [--replay PATH | --seeds DIR]\ntargets:\n{FuzzTargets.Describe()}");
    return 2;
}

var target = args[0];
if (args.Length == 3 && args[1] == "--seeds")
{
    Directory.CreateDirectory(args[2]);
    var seeds = Fixtures.Seeds(target);
    for (var i = 0; i < seeds.Count; i++)
    {
        File.WriteAllBytes(Path.Combine(args[2], $"seed-{i}"), seeds[i]);
    }

    return 0;
}

if (args.Length == 3 && args[1] == "--replay")
{
    var files = Directory.Exists(args[2]) ? Directory.GetFiles(args[2], "*", SearchOption.AllDirectories) : [args[2]];
    foreach (var file in files.Order(StringComparer.Ordinal))
    {
        Console.WriteLine(file);
        FuzzTargets.Run(target, File.ReadAllBytes(file));
    }

    return 0;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    FuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
