namespace Parley.EndToEnd;

/// <summary>A message written while the server is down waits in the outbox and is delivered once when it is back.</summary>
public sealed class OutboxTests
{
    [Fact]
    public async Task MessageSentWhileTheServerIsDownIsDeliveredOnceLater()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "first, while up");

        await server.KillAsync();
        var down = await ParleyExecutable.RunAsync(alice, null, "send", "bob", "second, while down");
        Assert.NotEqual(0, down.ExitCode);
        Assert.Contains("cannot reach the server", down.Stderr, StringComparison.Ordinal);
        Assert.Contains("(not sent yet)", (await ParleyExecutable.RunOkAsync(alice, "history", "bob")).Stdout, StringComparison.Ordinal);

        await server.StartAsync();
        // Any command that connects flushes the outbox; inbox is the usual one.
        await ParleyExecutable.RunOkAsync(alice, "inbox");
        await ParleyExecutable.RunOkAsync(alice, "inbox");

        var texts = (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout;
        Assert.Equal(1, Count(texts, "first, while up"));
        Assert.Equal(1, Count(texts, "second, while down"));
        Assert.DoesNotContain("(not sent yet)", (await ParleyExecutable.RunOkAsync(alice, "history", "bob")).Stdout, StringComparison.Ordinal);
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
