using Parley.EndToEnd;
using Parley.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Parley.Faults;

/// <summary>
/// kill -9 of a real `parley serve` at random moments while one user sends and another receives
/// without pause: after each restart every acknowledged message and every message left in the
/// sender's outbox reaches the recipient exactly once (DESIGN.md, delivery semantics).
/// </summary>
public sealed class ServerKillTests(ITestOutputHelper output)
{
    /// <summary>Kills per run; the issue asks for at least 20.</summary>
    internal const int Kills = 20;

    [Fact]
    public Task KillNineOfTheServerUnderLoadLosesAndDuplicatesNothingOnSqlite() => RunAsync("sqlite", []);

    [Fact]
    public async Task KillNineOfTheServerUnderLoadLosesAndDuplicatesNothingOnPostgres()
    {
        await using var cluster = await PostgresCluster.FromEnvironmentAsync();
        var database = await cluster.CreateDatabaseAsync();
        await RunAsync("postgres", ["--storage", "postgres", "--postgres", database]);
    }

    private async Task RunAsync(string engine, string[] serveArguments)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"), serveArguments);
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");
        var ledger = new DeliveryLedger("alice", "bob");

        // The first message makes the session, so that later ones can be encrypted while the server is down.
        await ledger.SendAsync(alice, "m-0");

        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                await ledger.SendAsync(alice, $"m-{n}");
            }
        });
        var receiving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ledger.ReceiveOnceAsync(bob);
            }
        });

        for (var kill = 0; kill < Kills; kill++)
        {
            // Long enough for some sends to finish, short enough that many are cut off.
            await Task.Delay(random.Next(500, 2500));
            await server.KillAsync();
            await Task.Delay(random.Next(0, 400));
            await server.StartAsync();
        }

        await Task.Delay(random.Next(300, 1000));
        await stop.CancelAsync();
        await Task.WhenAll(sending, receiving);

        var figures = await ledger.SettleAndCheckAsync(alice, bob);
        output.WriteLine($"server kill -9 on {engine} (seed {seed}): {Kills} kills; {figures}");
        Assert.True(figures.Acknowledged > 0 && figures.Kept > 0, $"the load never met a fault, so this run proved nothing: {figures}");
    }
}
