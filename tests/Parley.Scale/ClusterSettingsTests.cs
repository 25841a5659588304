using Parley.Client.Connection;
using Parley.EndToEnd;
using Parley.Scale.Infrastructure;

namespace Parley.Scale;

/// <summary>`parley serve --redis --node-id`: settings precedence, bad values, and a start while Redis is down.</summary>
public sealed class ClusterSettingsTests
{
    [Fact]
    public async Task NodeIdAndRedisFollowFlagThenEnvironmentThenFile()
    {
        using var work = new Workspace();
        var (filePort, envPort) = (ServerProcess.FreePort(), ServerProcess.FreePort());
        var config = work.Combine("parley.json");
        await File.WriteAllTextAsync(config, $$"""{ "redis": "127.0.0.1:{{filePort}}", "nodeId": "file-node" }""");

        Assert.Contains($"file-node  (redis 127.0.0.1:{filePort})", await NodeLineAsync([], work, "--config", config), StringComparison.Ordinal);

        var environment = new Dictionary<string, string> { ["PARLEY_NODE_ID"] = "env-node", ["PARLEY_REDIS"] = $"127.0.0.1:{envPort}" };
        Assert.Contains($"env-node  (redis 127.0.0.1:{envPort})", await NodeLineAsync(environment, work, "--config", config), StringComparison.Ordinal);
        Assert.Contains($"flag-node  (redis 127.0.0.1:{envPort})", await NodeLineAsync(environment, work, "--config", config, "--node-id", "flag-node"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadNodeIdOrRedisIsOneClearLine()
    {
        using var work = new Workspace();
        var result = await ParleyExecutable.RunAsync(new Dictionary<string, string>(), null, "serve", "--data", work.Combine("d"), "--node-id", "a|b");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("parley: error: --node-id must be 1-64 characters A-Z, a-z, 0-9, '.', '_', '-' (got \"a|b\")", result.Stderr.Trim());

        var redis = await ParleyExecutable.RunAsync(new Dictionary<string, string>(), null, "serve", "--data", work.Combine("d"), "--redis", "127.0.0.1:1,nonsense=1");
        Assert.NotEqual(0, redis.ExitCode);
        Assert.StartsWith("parley: error: --redis is not a Redis address or configuration", redis.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", redis.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeStartsDegradedWhileRedisIsDownAndTurnsHealthyWhenItComesUp()
    {
        using var work = new Workspace();
        var redisPort = ServerProcess.FreePort();
        await using var node = await ServerProcess.StartAsync(work.Combine("server"), "--redis", $"127.0.0.1:{redisPort}", "--node-id", "lonely");
        using var http = Http(await File.ReadAllTextAsync(Path.Combine(node.DataDirectory, "ca.pem")));

        var (status, body) = await HealthAsync(http, node);
        Assert.Equal(200, status);
        Assert.StartsWith("degraded: redis unreachable", body, StringComparison.Ordinal);

        // Redis appears on that port later: the node subscribes by itself.
        await using var redis = await RedisServer.LaunchAsync(redisPort);
        Assert.True(
            await Deployment.EventuallyAsync(async () => await HealthAsync(http, node) == (200, "ok"), TimeSpan.FromSeconds(60)),
            $"never healthy: {await HealthAsync(http, node)}");
    }

    private static async Task<string> NodeLineAsync(Dictionary<string, string> environment, Workspace work, params string[] args)
    {
        var data = work.Combine("data-" + Guid.NewGuid().ToString("N"));
        var listen = $"https://127.0.0.1:{ServerProcess.FreePort()}";
        using var process = ParleyExecutable.Start(environment, ["serve", "--data", data, "--listen", listen, .. args], redirectInput: false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.TrimStart().StartsWith("node ", StringComparison.Ordinal))
                {
                    return line;
                }
            }

            throw new InvalidOperationException("no node line: " + await process.StandardError.ReadToEndAsync());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(int Status, string Body)> HealthAsync(HttpClient http, ServerProcess node)
    {
        using var response = await http.GetAsync(new Uri(node.Url + "/healthz"));
        return ((int)response.StatusCode, (await response.Content.ReadAsStringAsync()).Trim());
    }

    private static HttpClient Http(string caPem)
    {
        var ca = new PinnedCertificateAuthority(caPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca.Validate(certificate, errors);
        return new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(15) };
    }
}
