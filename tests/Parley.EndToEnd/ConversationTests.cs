using System.Diagnostics;
using System.Text.Json;

namespace Parley.EndToEnd;

/// <summary>
/// The walk-through of the README, driven through the real `parley` executable against a real
/// `parley serve` process: register, send while offline, restart, receive once, verify, reply.
/// </summary>
public sealed class ConversationTests
{
    [Fact]
    public async Task TwoUsersExchangeMessagesAcrossAServerRestart()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        await WalkThroughAsync(work, server);
    }

    [Fact]
    public async Task TwoUsersExchangeMessagesAcrossAServerRestartOnPostgres()
    {
        using var work = new Workspace();
        await using var cluster = await Parley.Server.Tests.Infrastructure.PostgresCluster.FromEnvironmentAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"), "--storage", "postgres", "--postgres", database);
        await WalkThroughAsync(work, server);
    }

    private static async Task WalkThroughAsync(Workspace work, ServerProcess server)
    {

        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        // bob is offline (no bob process runs) while alice sends.
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "hello bob, from alice");

        // The server goes down hard and comes back; the message was committed before it was acknowledged.
        await server.KillAsync();
        await server.StartAsync();

        var inbox = await ParleyExecutable.RunOkAsync(bob, "inbox", "--json");
        var messages = JsonLines(inbox.Stdout);
        var message = Assert.Single(messages);
        Assert.Equal("alice", message.GetProperty("from").GetString());
        Assert.Equal("hello bob, from alice", message.GetProperty("text").GetString());
        Assert.Equal("ok", message.GetProperty("status").GetString());

        // Shown exactly once.
        Assert.Empty(JsonLines((await ParleyExecutable.RunOkAsync(bob, "inbox", "--json")).Stdout));

        // Both see the same safety number and confirm it.
        var seenByAlice = SafetyNumber((await ParleyExecutable.RunOkAsync(alice, "verify", "bob")).Stdout);
        var seenByBob = SafetyNumber((await ParleyExecutable.RunOkAsync(bob, "verify", "alice", "--confirm")).Stdout);
        Assert.Equal(seenByAlice, seenByBob);
        Assert.Equal(60, seenByAlice.Length);

        // bob replies; alice reads it as from a contact bob has verified on his side.
        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "hi alice");
        var reply = Assert.Single(JsonLines((await ParleyExecutable.RunOkAsync(alice, "inbox", "--json")).Stdout));
        Assert.Equal("hi alice", reply.GetProperty("text").GetString());

        var history = JsonLines((await ParleyExecutable.RunOkAsync(alice, "history", "bob", "--json")).Stdout);
        Assert.Equal(["hello bob, from alice", "hi alice"], history.Select(h => h.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task WrongPassphraseIsOneClearErrorAndChangesNothing()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var database = Path.Combine(work.Combine("alice"), "profile.db");
        var before = await File.ReadAllBytesAsync(database);

        var wrong = await ParleyExecutable.RunAsync(work.User("alice", passphrase: "not the passphrase"), null, "whoami");

        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Equal("parley: error: wrong passphrase", wrong.Stderr.Trim());
        Assert.Equal(before, await File.ReadAllBytesAsync(database));
        await ParleyExecutable.RunOkAsync(alice, "whoami");
    }

    [Fact]
    public async Task CertificateFromWhoamiVerifiesWithOpensslAgainstTheServedCa()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");

        var certificate = work.Combine("alice.pem");
        await File.WriteAllTextAsync(certificate, (await ParleyExecutable.RunOkAsync(alice, "whoami", "--cert")).Stdout);
        var ca = work.Combine("ca.pem");
        using (var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
        using (var http = new HttpClient(handler))
        {
            await File.WriteAllTextAsync(ca, await http.GetStringAsync(new Uri(server.Url + "/ca.pem")));
        }

        var verify = Process.Start(new ProcessStartInfo("openssl", ["verify", "-CAfile", ca, certificate]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await verify.StandardOutput.ReadToEndAsync();
        await verify.WaitForExitAsync();
        Assert.True(verify.ExitCode == 0, output + await verify.StandardError.ReadToEndAsync());
        Assert.Contains(": OK", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongCaFingerprintRefusesToRegister()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var wrong = "SHA256:" + string.Join(':', Enumerable.Repeat("00", 32));

        var result = await ParleyExecutable.RunAsync(work.User("alice"), null, "register", "alice", "--server", server.Url, "--ca-fingerprint", wrong);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("not the fingerprint you gave", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(work.Combine("alice"), "profile.db")));
    }

    [Fact]
    public async Task NonInteractiveRegisterWithoutFingerprintOrTofuIsRefused()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));

        var refused = await ParleyExecutable.RunAsync(work.User("alice"), string.Empty, "register", "alice", "--server", server.Url);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--tofu", refused.Stderr, StringComparison.Ordinal);

        var tofu = await ParleyExecutable.RunAsync(work.User("alice"), string.Empty, "register", "alice", "--server", server.Url, "--tofu");
        Assert.True(tofu.ExitCode == 0, tofu.ToString());
        Assert.Contains(server.CaFingerprint, tofu.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendingToAnUnknownUserOrADeadServerIsOneClearError()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");

        var unknown = await ParleyExecutable.RunAsync(alice, null, "send", "nobody", "hi");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));
        Assert.Contains("nobody", unknown.Stderr, StringComparison.Ordinal);

        await server.KillAsync();
        var dead = await ParleyExecutable.RunAsync(alice, null, "inbox");
        Assert.NotEqual(0, dead.ExitCode);
        Assert.Single(dead.Stderr.Trim().Split('\n'));
        Assert.Contains("cannot reach the server", dead.Stderr, StringComparison.Ordinal);
    }


    private static List<JsonElement> JsonLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();

    private static string SafetyNumber(string verifyOutput) =>
        new(verifyOutput.Split('\n')[1].Where(char.IsDigit).ToArray());
}
