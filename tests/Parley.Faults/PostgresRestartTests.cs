using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Parley.Client;
using Parley.EndToEnd;
using Parley.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Parley.Faults;

/// <summary>
/// The PostgreSQL server under a real `parley serve` stops and starts again while a client keeps
/// sending: /healthz turns 503, sends are refused with UNAVAILABLE (retryable, the message stays
/// in the outbox), and once the database is back the server recovers without a restart of its own
/// and every message arrives once.
/// </summary>
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DatabaseRestartUnderLoadIsReportedRefusedRetryablyAndRecoveredFrom()
    {
        await using var cluster = await PostgresCluster.StartPrivateAsync();
        var database = await cluster.CreateDatabaseAsync();
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"), "--storage", "postgres", "--postgres", database);
        var aliceEnvironment = await work.RegisterAsync(server, "alice");
        var bobEnvironment = await work.RegisterAsync(server, "bob");
        var ledger = new DeliveryLedger("alice", "bob");
        await ledger.SendAsync(aliceEnvironment, "p-0");
        using var health = HealthProbe(server);
        Assert.Equal(HttpStatusCode.OK, await HealthAsync(health));

        var refusals = new ConcurrentQueue<StatusCode>();
        var acknowledgedAfterRestart = 0;
        var restarted = false;
        using var stop = new CancellationTokenSource();
        var alice = Messenger.Open(aliceEnvironment["PARLEY_PROFILE"], aliceEnvironment["PARLEY_PASSPHRASE"]);
        var sending = Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var text = $"p-{n}";
                try
                {
                    await alice.SendAsync("bob", text, CancellationToken.None);
                    ledger.Record(text, DeliveryLedger.Outcome.Acknowledged);
                    if (Volatile.Read(ref restarted))
                    {
                        Interlocked.Increment(ref acknowledgedAfterRestart);
                    }
                }
                catch (ClientException e) when (e.Message.Contains("the message is kept", StringComparison.Ordinal))
                {
                    ledger.Record(text, DeliveryLedger.Outcome.Kept);
                    refusals.Enqueue(StatusOf(e));
                    await Task.Delay(100);
                }
                catch (ClientException e)
                {
                    ledger.Unexpected($"send {text}: {e.Kind} {e.Message}");
                    await Task.Delay(100);
                }
            }
        });

        await Task.Delay(1500);
        await cluster.StopAsync();
        await UntilAsync(async () => await HealthAsync(health) == HttpStatusCode.ServiceUnavailable, "/healthz never reported the database down");
        await UntilAsync(() => Task.FromResult(!refusals.IsEmpty), "no send was refused while the database was down");
        await Task.Delay(1000);

        await cluster.StartAgainAsync();
        Volatile.Write(ref restarted, true);
        await UntilAsync(async () => await HealthAsync(health) == HttpStatusCode.OK, "/healthz never recovered");
        await UntilAsync(() => Task.FromResult(Volatile.Read(ref acknowledgedAfterRestart) >= 3), "sends never succeeded again after the database came back");
        await stop.CancelAsync();
        await sending;
        await alice.DisposeAsync();

        var codes = refusals.Distinct().ToList();
        Assert.True(codes.SequenceEqual([StatusCode.Unavailable]), $"refusals while the database was down: {string.Join(", ", codes)}");
        var figures = await ledger.SettleAndCheckAsync(aliceEnvironment, bobEnvironment);
        output.WriteLine($"postgres restart under load: {refusals.Count} sends refused with UNAVAILABLE; {figures}");
    }

    private static StatusCode StatusOf(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is RpcException rpc)
            {
                return rpc.StatusCode;
            }
        }

        return StatusCode.Unknown;
    }

    private static HttpClient HealthProbe(ServerProcess server)
    {
        // Only the status code of /healthz is read here; the TLS chain is the CA's own (checked by the clients' tests).
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        return new HttpClient(handler) { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(10) };
    }

    private static async Task<HttpStatusCode> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz");
        return response.StatusCode;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(200);
        }
    }
}
