using System.Net;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;

namespace Parley.Server.Tests.Behaviour;

/// <summary>The operator's side: files on first start, HTTP endpoints, rate limits, graceful stop.</summary>
public sealed class OperationsTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(o => new Hosting.ServerOptions
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        AnonymousRequestsPerSecondPerConnection = 5,
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void FirstStartCreatesPrivateFilesForSecrets()
    {
        foreach (var file in new[] { "ca.key", "tls.key", "admin.token" })
        {
            var mode = File.GetUnixFileMode(Path.Combine(server.Options.DataDirectory, file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(server.Options.DataDirectory));
    }

    [Fact]
    public async Task RestartReusesTheSameCa()
    {
        var before = server.CaPem;
        await server.RestartAsync();
        Assert.Equal(before, server.CaPem);
    }

    [Fact]
    public async Task HealthMetricsAndCaAreServed()
    {
        using var http = Http();
        var health = await http.GetAsync(new Uri(server.Address, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // The first scrape starts prometheus-net's meter adapter: only what is measured after it shows.
        await http.GetStringAsync(new Uri(server.Address, "/metrics"));
        await using (var alice = await server.RegisterAsync("alice"))
        await using (await server.RegisterAsync("bob"))
        {
            await alice.SendAsync("bob", [1]);
        }

        var metrics = await http.GetStringAsync(new Uri(server.Address, "/metrics"));
        Assert.Contains("parley_messages_accepted_total", metrics, StringComparison.Ordinal);
        Assert.Contains("parley_queue_depth", metrics, StringComparison.Ordinal);
        Assert.Contains("parley_send_commit_seconds_bucket", metrics, StringComparison.Ordinal);

        // The runtime's and Kestrel's meters (parley-load reads the allocations), but not the
        // memory pool's, whose per-block measurements cost more than they tell.
        Assert.Contains("system_runtime_dotnet_gc_heap_total_allocated", metrics, StringComparison.Ordinal);
        Assert.Contains("kestrel_active_connections", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("memory_pool", metrics, StringComparison.Ordinal);

        Assert.Equal(server.CaPem, await http.GetStringAsync(new Uri(server.Address, "/ca.pem")));
        var crl = await http.GetStringAsync(new Uri(server.Address, "/crl.pem"));
        Assert.Equal(0, Protocol.Certificates.RevocationList.Parse(crl, server.CaPem).Count);
    }

    [Fact]
    public async Task UnauthenticatedFloodIsLimitedPerConnection()
    {
        await using var flooder = server.Connect();
        var refused = 0;
        for (var i = 0; i < 40; i++)
        {
            try
            {
                await flooder.Accounts.ChallengeAsync(new ChallengeRequest());
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                refused++;
            }
        }

        Assert.True(refused > 0, "no request was refused");

        // Another connection is served as usual.
        await using var other = server.Connect();
        Assert.Equal(32, (await other.Accounts.ChallengeAsync(new ChallengeRequest())).Challenge.Length);
    }

    [Fact]
    public async Task HealthIsUnavailableWhenTheDatabaseIsGone()
    {
        await using var postgres = await Infrastructure.PostgresCluster.StartPrivateAsync();
        await using var pgServer = await TestServer.StartAsync(postgres: await postgres.CreateDatabaseAsync());
        using var http = Http(pgServer);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(pgServer.Address, "/healthz"))).StatusCode);

        await postgres.StopAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri(pgServer.Address, "/healthz"))).StatusCode);
    }

    private HttpClient Http() => Http(server);

    private static HttpClient Http(TestServer target)
    {
        var ca = new PinnedCertificateAuthority(target.CaPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca.Validate(certificate, errors);
        return new HttpClient(handler, disposeHandler: true);
    }
}
