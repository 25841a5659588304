namespace Parley.EndToEnd;

/// <summary>`parley serve` settings: flags beat PARLEY_* variables, which beat the --config file.</summary>
public sealed class ServeSettingsTests
{
    [Fact]
    public async Task FlagBeatsEnvironmentWhichBeatsTheFile()
    {
        using var work = new Workspace();
        var (filePort, envPort, flagPort) = (ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort());
        var config = work.Combine("parley.json");
        await File.WriteAllTextAsync(config, $$"""{ "data": "{{work.Combine("from-file")}}", "listen": "https://127.0.0.1:{{filePort}}" }""");
        var environment = new Dictionary<string, string> { ["PARLEY_LISTEN"] = $"https://127.0.0.1:{envPort}" };

        Assert.Contains($":{envPort}", await FirstLineAsync(environment, "serve", "--config", config), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(work.Combine("from-file"), "ca.pem")), "the data directory came from the file");
        Assert.Contains($":{flagPort}", await FirstLineAsync(environment, "serve", "--config", config, "--listen", $"https://127.0.0.1:{flagPort}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadSettingsAreOneClearLine()
    {
        using var work = new Workspace();
        var result = await ParleyExecutable.RunAsync(new Dictionary<string, string>(), null, "serve", "--data", work.Combine("d"), "--listen", "http://127.0.0.1:1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("parley: error: --listen must be an https:// address (got http://127.0.0.1:1/)", result.Stderr.Trim());

        var postgres = await ParleyExecutable.RunAsync(new Dictionary<string, string>(), null, "serve", "--data", work.Combine("d"), "--storage", "postgres");
        Assert.NotEqual(0, postgres.ExitCode);
        Assert.Contains("--postgres", postgres.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Starts serve, returns its first line ("listening on ..."), and stops it.</summary>
    private static async Task<string> FirstLineAsync(Dictionary<string, string> environment, params string[] args)
    {
        using var process = ParleyExecutable.Start(environment, args, redirectInput: false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            return line ?? throw new InvalidOperationException(await process.StandardError.ReadToEndAsync());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
