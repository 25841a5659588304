namespace Parley.EndToEnd;

/// <summary>A peer's identity key changes (lost device, re-registered): sending is refused until accepted.</summary>
public sealed class KeyChangeTests
{
    [Fact]
    public async Task ChangedKeyBlocksSendingUntilAccepted()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "before the change");

        // bob loses his device: the operator revokes his certificate and he registers again.
        await ParleyExecutable.RunOkAsync(alice, "admin", "revoke", "bob", "--data", server.DataDirectory, "--server", server.Url);
        var newBob = await work.RegisterAsync(server, "bob", "bob-new-device");

        var refused = await ParleyExecutable.RunAsync(alice, null, "send", "bob", "are you still you?");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("identity key of bob has changed", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("KEY CHANGED", (await ParleyExecutable.RunOkAsync(alice, "contacts", "list")).Stdout, StringComparison.Ordinal);

        await ParleyExecutable.RunOkAsync(alice, "contacts", "accept-key", "bob");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "after accepting");

        var inbox = (await ParleyExecutable.RunOkAsync(newBob, "inbox")).Stdout;
        Assert.Contains("alice: after accepting", inbox, StringComparison.Ordinal);
        Assert.DoesNotContain("before the change", inbox, StringComparison.Ordinal);
        Assert.DoesNotContain("are you still you", inbox, StringComparison.Ordinal);
    }
}
