using Parley.EndToEnd;

namespace Parley.Faults;

/// <summary>
/// A client profile damaged on disk: every command fails with one clear line, nothing is
/// acknowledged to the server meanwhile, and once the file is restored from a backup the waiting
/// messages arrive.
/// </summary>
public sealed class CorruptedProfileTests
{
    public static TheoryData<string> Damages => ["overwritten", "truncated", "zeroed"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task DamagedProfileIsAClearErrorAndLosesNoMessage(string damage)
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "before the damage");
        Assert.Contains("before the damage", (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout, StringComparison.Ordinal);

        var file = Path.Combine(bob["PARLEY_PROFILE"], "profile.db");
        var backup = work.Combine("bob-backup.db");
        File.Copy(file, backup);
        Damage(file, damage);
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "while damaged");

        foreach (var command in new[] { new[] { "inbox" }, ["history", "alice"], ["send", "alice", "from a damaged profile"] })
        {
            var result = await ParleyExecutable.RunAsync(bob, null, command);
            Assert.NotEqual(0, result.ExitCode);
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("parley: error: ", line, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }

        File.Copy(backup, file, overwrite: true);
        foreach (var stale in new[] { "-wal", "-shm" })
        {
            File.Delete(file + stale);
        }

        var inbox = (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout;
        Assert.Contains("while damaged", inbox, StringComparison.Ordinal);
    }

    private static void Damage(string file, string how)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        switch (how)
        {
            case "overwritten":
                // Keep the header page, scramble the rest: the schema and the sealed rows.
                var noise = new byte[stream.Length - 4096];
                new Random(9).NextBytes(noise);
                stream.Position = 4096;
                stream.Write(noise);
                break;
            case "truncated":
                stream.SetLength(stream.Length / 3);
                break;
            default:
                stream.Write(new byte[stream.Length]);
                break;
        }
    }
}
