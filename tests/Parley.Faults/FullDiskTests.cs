using System.Diagnostics;
using Parley.EndToEnd;
using Xunit.Abstractions;

namespace Parley.Faults;

/// <summary>
/// The server's data directory on a small tmpfs that fills up: sends are refused with a clear,
/// retryable error and stay in the sender's outbox; once space is freed they are delivered once.
/// Needs permission to mount (root); the test says so if it does not have it.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FullDiskRefusesSendsClearlyAndLosesNothing()
    {
        using var work = new Workspace();
        var data = work.Combine("server");
        Directory.CreateDirectory(data);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data);
        try
        {
            await using (var server = await ServerProcess.StartAsync(data))
            {
                var alice = await work.RegisterAsync(server, "alice");
                var bob = await work.RegisterAsync(server, "bob");
                var ledger = new DeliveryLedger("alice", "bob");
                await ledger.SendAsync(alice, "f-0 before the disk filled");

                // Fill what is left but a little, then send until the disk refuses.
                var filler = Path.Combine(data, "filler");
                await FillAsync(filler);
                var refused = 0;
                string? error = null;
                var payload = new string('x', 60_000);
                for (var n = 1; n <= 40 && refused < 3; n++)
                {
                    var text = $"f-{n} {payload}";
                    var result = await ParleyExecutable.RunAsync(alice, null, "send", "bob", text);
                    if (result.ExitCode == 0)
                    {
                        ledger.Record(text, DeliveryLedger.Outcome.Acknowledged);
                        continue;
                    }

                    refused++;
                    error = result.Stderr.Trim();
                    Assert.Contains("the message is kept", error, StringComparison.Ordinal);
                    ledger.Record(text, DeliveryLedger.Outcome.Kept);
                }

                Assert.True(refused > 0, "the disk never filled up");
                Assert.Contains("the server is unavailable: the server's disk is full", error, StringComparison.Ordinal);
                Assert.StartsWith("parley: error: ", error, StringComparison.Ordinal);

                // The server keeps serving: reading and acknowledging needs no new space.
                File.Delete(filler);
                var figures = await ledger.SettleAndCheckAsync(alice, bob);
                output.WriteLine($"full disk: {refused} sends refused ({error}); {figures}");
            }
        }
        finally
        {
            await RunAsync("umount", "-l", data);
        }
    }

    private static async Task FillAsync(string path)
    {
        var block = new byte[64 * 1024];
        await using var stream = new FileStream(path, FileMode.CreateNew);
        try
        {
            while (true)
            {
                await stream.WriteAsync(block);
                await stream.FlushAsync();
            }
        }
        catch (IOException)
        {
            // Full. Give back a little, so that the server can still open its files.
        }

        stream.SetLength(Math.Max(0, stream.Length - (256 * 1024)));
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed (this test needs permission to mount a tmpfs, e.g. root): {await stderr}");
    }
}
