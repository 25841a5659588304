using Parley.EndToEnd;
using Xunit.Abstractions;

namespace Parley.Faults;

/// <summary>
/// kill -9 of real `parley send` and `parley inbox` processes at random moments (both at once,
/// against one server): the sender's profile keeps every message it stored and sends it later,
/// the recipient's profile shows each message once however often its inbox was cut short.
/// </summary>
public sealed class ClientKillTests(ITestOutputHelper output)
{
    internal const int Kills = 20;

    [Fact]
    public async Task KillNineOfSendingAndReceivingClientsLosesAndDuplicatesNothing()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var delays = new Lock();
        int Delay(int from, int to)
        {
            lock (delays)
            {
                return random.Next(from, to);
            }
        }

        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");
        var ledger = new DeliveryLedger("alice", "bob");
        for (var n = 0; n < 5; n++)
        {
            await ledger.SendAsync(alice, $"c-{n}");
        }

        var senderKills = 0;
        var receiverKills = 0;
        var sending = Task.Run(async () =>
        {
            for (var n = 5; senderKills < Kills; n++)
            {
                var text = $"c-{n}";
                if (n % 2 == 0)
                {
                    // A send that runs to completion between the killed ones.
                    await ledger.SendAsync(alice, text);
                    continue;
                }

                if (await KilledAsync(alice, ["send", "bob", text], Delay(100, 2500)))
                {
                    ledger.Record(text, DeliveryLedger.Outcome.Killed);
                    senderKills++;
                }
                else
                {
                    ledger.Record(text, DeliveryLedger.Outcome.Acknowledged);
                }
            }
        });
        var receiving = Task.Run(async () =>
        {
            while (receiverKills < Kills)
            {
                if (await KilledAsync(bob, ["inbox"], Delay(100, 2500)))
                {
                    receiverKills++;
                }
            }
        });
        await Task.WhenAll(sending, receiving);

        var figures = await ledger.SettleAndCheckAsync(alice, bob);
        output.WriteLine($"client kill -9 (seed {seed}): {senderKills} sender kills, {receiverKills} receiver kills; {figures}");
    }

    /// <summary>Starts `parley args`, kills it (-9) after <paramref name="afterMilliseconds"/> unless it exited; true if it was killed.</summary>
    private static async Task<bool> KilledAsync(Dictionary<string, string> environment, string[] args, int afterMilliseconds)
    {
        using var process = ParleyExecutable.Start(environment, args, redirectInput: false);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(afterMilliseconds);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return true;
        }

        Assert.True(process.ExitCode == 0, $"parley {string.Join(' ', args)} failed: {await stdout}{await stderr}");
        return false;
    }
}
