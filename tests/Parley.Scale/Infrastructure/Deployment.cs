using System.Globalization;
using System.Text.Json;
using Parley.Client.Connection;
using Parley.EndToEnd;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Scale.Infrastructure;

/// <summary>
/// A scale-out deployment on this machine: a private PostgreSQL cluster, a private redis-server
/// and several real `parley serve` processes on loopback ports, all sharing one data directory
/// (the CA, TLS certificate and admin token) and one database. Nodes start together, so the CA
/// lock in the data directory is exercised every time.
/// </summary>
internal sealed class Deployment : IAsyncDisposable
{
    private readonly PostgresCluster postgres;
    private readonly List<TcpRoute> routes = [];

    private Deployment(Workspace work, PostgresCluster postgres, RedisServer redis, IReadOnlyList<ServerProcess> nodes, string caPem)
    {
        Work = work;
        this.postgres = postgres;
        Redis = redis;
        Nodes = nodes;
        CaPem = caPem;
    }

    internal Workspace Work { get; }

    internal RedisServer Redis { get; }

    internal IReadOnlyList<ServerProcess> Nodes { get; }

    internal string CaPem { get; }

    /// <summary>The data directory every node shares (CA, TLS certificate, admin token).</summary>
    internal string DataDirectory => Nodes[0].DataDirectory;

    internal string CaFingerprint => Nodes[0].CaFingerprint;

    /// <param name="nodes">How many `parley serve` processes.</param>
    /// <param name="pollInterval">The safety-net re-read while wake-ups work; long in tests that prove a wake-up delivered.</param>
    /// <param name="degradedPollInterval">The re-read while Redis is unreachable.</param>
    /// <param name="settings">More entries of the nodes' settings file (e.g. rendezvousExpirySeconds).</param>
    internal static async Task<Deployment> StartAsync(int nodes, TimeSpan pollInterval, TimeSpan degradedPollInterval, IReadOnlyDictionary<string, object>? settings = null)
    {
        var work = new Workspace();
        var postgres = await PostgresCluster.FromEnvironmentAsync();
        RedisServer? redis = null;
        var started = new List<ServerProcess>();
        try
        {
            var database = await postgres.CreateDatabaseAsync();
            redis = await RedisServer.LaunchAsync();
            var config = work.Combine("node.json");
            var file = new Dictionary<string, object>
            {
                ["pollIntervalMs"] = (int)pollInterval.TotalMilliseconds,
                ["degradedPollIntervalMs"] = (int)degradedPollInterval.TotalMilliseconds,
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, object>())
            {
                file[key] = value;
            }

            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(file));
            var data = work.Combine("server");
            var starting = Enumerable.Range(0, nodes).Select(i => ServerProcess.StartAsync(
                data,
                "--storage", "postgres", "--postgres", database, "--redis", redis.Address,
                "--node-id", NodeName(i), "--config", config)).ToList();
            foreach (var node in starting)
            {
                try
                {
                    started.Add(await node);
                }
                catch (InvalidOperationException)
                {
                    // Reported below, after the others are collected for cleanup.
                }
            }

            if (started.Count != nodes)
            {
                await Task.WhenAll(starting.Select(async t => { try { await t; } catch (InvalidOperationException) { } }));
                throw new InvalidOperationException("a node did not start: " + string.Join("; ", starting.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!.Message)));
            }

            var caPem = await File.ReadAllTextAsync(Path.Combine(data, "ca.pem"));
            return new Deployment(work, postgres, redis, started, caPem);
        }
        catch
        {
            foreach (var node in started)
            {
                await node.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }

            await postgres.DisposeAsync();
            work.Dispose();
            throw;
        }
    }

    internal static string NodeName(int index) => "node-" + (char)('a' + index);

    /// <summary>A client's way in, pointed at one node (repoint it to fail over).</summary>
    internal TcpRoute Route(ServerProcess node)
    {
        var route = new TcpRoute(node.Port);
        routes.Add(route);
        return route;
    }

    /// <summary>Registers <paramref name="name"/> through <paramref name="route"/>; returns the user's environment.</summary>
    internal async Task<Dictionary<string, string>> RegisterAsync(string name, TcpRoute route)
    {
        var user = Work.User(name);
        await ParleyExecutable.RunOkAsync(user, "register", name, "--server", route.Url, "--ca-fingerprint", CaFingerprint);
        return user;
    }

    /// <summary>GET /healthz: the status code and the body's first word (ok, degraded, unhealthy).</summary>
    internal async Task<(int Status, string Body)> HealthAsync(ServerProcess node)
    {
        using var http = Http();
        using var response = await http.GetAsync(new Uri(node.Url + "/healthz"));
        return ((int)response.StatusCode, (await response.Content.ReadAsStringAsync()).Trim());
    }

    /// <summary>The value of one metric sample on <paramref name="node"/> (0 when absent).</summary>
    internal async Task<double> MetricAsync(ServerProcess node, string sample)
    {
        using var http = Http();
        var text = await http.GetStringAsync(new Uri(node.Url + "/metrics"));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(sample + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(sample.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    internal static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var route in routes)
        {
            await route.DisposeAsync();
        }

        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        await Redis.DisposeAsync();
        await postgres.DisposeAsync();
        Work.Dispose();
    }

    private HttpClient Http()
    {
        var ca = new PinnedCertificateAuthority(CaPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca.Validate(certificate, errors);
        return new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(15) };
    }
}
