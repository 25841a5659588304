namespace Parley.EndToEnd;

/// <summary>`parley invite` / `parley join` and `parley chat --new-code` / `--code`: two real processes meeting over a code.</summary>
public sealed class InviteTests
{
    private const string MismatchLine = "parley: error: code mismatch — nothing was exchanged";

    [Fact]
    public async Task InviteAndJoinMakeBothSidesVerifiedContactsWithTheSameSafetyNumber()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var joined = await invite.JoinAsync(bob);

        Assert.True(joined.ExitCode == 0, joined.ToString());
        Assert.True(invite.ExitCode == 0, invite.ToString());
        Assert.Contains("connected to alice", joined.Stdout, StringComparison.Ordinal);
        Assert.Contains("connected to bob", invite.Stdout, StringComparison.Ordinal);
        Assert.Contains("alice is now a verified contact", joined.Stdout, StringComparison.Ordinal);
        Assert.Contains("bob is now a verified contact", invite.Stdout, StringComparison.Ordinal);
        var number = RunningParley.SafetyNumber(joined.Stdout);
        Assert.Equal(number, RunningParley.SafetyNumber(invite.Stdout));

        // The same as `parley verify --confirm`: listed as verified, and `verify` shows the same number.
        Assert.Matches(@"alice\s.*verified", (await ParleyExecutable.RunOkAsync(bob, "contacts", "list")).Stdout);
        Assert.Matches(@"bob\s.*verified", (await ParleyExecutable.RunOkAsync(alice, "contacts", "list")).Stdout);
        Assert.Contains(number, (await ParleyExecutable.RunOkAsync(alice, "verify", "bob")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongCodeIsOneMismatchLineOnBothSidesAndAddsNoContact()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var code = await invite.WaitForCodeAsync();
        var parts = code.Split('-');
        var wrongWord = parts[1] == "tiger" ? "velvet" : "tiger";
        var joined = await ParleyExecutable.RunAsync(bob, null, "join", $"{parts[0]}-{wrongWord}-{parts[2]}");
        await invite.ExitAsync();

        Assert.NotEqual(0, joined.ExitCode);
        Assert.NotEqual(0, invite.ExitCode);
        Assert.Equal(MismatchLine, joined.Stderr.Trim());
        Assert.Equal(MismatchLine, invite.Stderr.Trim());
        Assert.Contains("no contacts yet", (await ParleyExecutable.RunOkAsync(alice, "contacts", "list")).Stdout, StringComparison.Ordinal);
        Assert.Contains("no contacts yet", (await ParleyExecutable.RunOkAsync(bob, "contacts", "list")).Stdout, StringComparison.Ordinal);

        // The nameplate is burnt: the right code no longer works either.
        var retry = await ParleyExecutable.RunAsync(bob, null, "join", code);
        Assert.NotEqual(0, retry.ExitCode);
        Assert.Contains("already used", retry.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAndExpiredCodesHaveTheirOwnLines()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"), "--config", WriteConfig(work, """{ "rendezvousExpirySeconds": 2 }"""));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        var unknown = await ParleyExecutable.RunAsync(bob, null, "join", "424242-tiger-velvet");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Equal("parley: error: no invitation has this code's number — check it, or ask for a new code", unknown.Stderr.Trim());

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        var code = await invite.WaitForCodeAsync();
        await invite.ExitAsync();
        Assert.NotEqual(0, invite.ExitCode);
        Assert.Equal("parley: error: the code has expired — ask for a new one", invite.Stderr.Trim());
        var late = await ParleyExecutable.RunAsync(bob, null, "join", code);
        Assert.NotEqual(0, late.ExitCode);
        Assert.Equal("parley: error: the code has expired — ask for a new one", late.Stderr.Trim());
    }

    [Fact]
    public async Task CodeChatExchangesALineEachWayWithoutContacts()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        using var host = RunningParley.Start(alice, "chat", "--new-code");
        using var guest = await host.JoinChatAsync(bob, "alice", "bob");

        await host.WriteLineAsync("hello from alice");
        await guest.WaitForAsync("alice: hello from alice");
        await guest.WriteLineAsync("hello from bob");
        await host.WaitForAsync("bob: hello from bob");

        // End of input ends alice's side; bob is told and ends too.
        host.Process.StandardInput.Close();
        await host.ExitAsync();
        await guest.WaitForAsync("alice left the chat");
        guest.Process.StandardInput.Close();
        await guest.ExitAsync();
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.True(guest.ExitCode == 0, guest.ToString());
        Assert.Equal(RunningParley.SafetyNumber(host.Stdout), RunningParley.SafetyNumber(guest.Stdout));
        Assert.Contains("no contacts yet", (await ParleyExecutable.RunOkAsync(alice, "contacts", "list")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InviteWaitingWhenTheServerIsKilledEndsWithOneErrorLine()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");

        using var invite = RunningParley.Start(alice, "invite", "--timeout", "60s");
        await invite.WaitForCodeAsync();
        await invite.WaitForAsync("waiting for the other person");
        await server.KillAsync();
        await invite.ExitAsync();

        invite.AssertEndedWithUnreachableServer();
    }

    [Fact]
    public async Task CodeChatWhenTheServerIsKilledEndsWithOneErrorLineOnBothSides()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        using var host = RunningParley.Start(alice, "chat", "--new-code");
        using var guest = await host.JoinChatAsync(bob, "alice", "bob");
        await server.KillAsync();
        await host.ExitAsync();
        await guest.ExitAsync();

        host.AssertEndedWithUnreachableServer();
        guest.AssertEndedWithUnreachableServer();
    }

    private static string WriteConfig(Workspace work, string json)
    {
        var path = work.Combine("server.json");
        File.WriteAllText(path, json);
        return path;
    }
}
