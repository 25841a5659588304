using System.Text;

namespace Parley.EndToEnd;

/// <summary>`parley chat`: a long-running process reading lines while messages arrive.</summary>
public sealed class ChatTests
{
    [Fact]
    public async Task ChatShowsIncomingMessagesAndSendsTypedLines()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        var bob = await work.RegisterAsync(server, "bob");

        using var chat = ParleyExecutable.Start(alice, ["chat", "bob"], redirectInput: true);
        var output = new StringBuilder();
        var reader = Task.Run(async () =>
        {
            while (await chat.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        });

        await ParleyExecutable.RunOkAsync(bob, "send", "alice", "ping from bob");
        await WaitForAsync(output, "bob: ping from bob");

        await chat.StandardInput.WriteLineAsync("pong from alice");
        await chat.StandardInput.FlushAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string inbox;
        do
        {
            await Task.Delay(500);
            inbox = (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout;
        }
        while (!inbox.Contains("alice: pong from alice", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        Assert.Contains("alice: pong from alice", inbox, StringComparison.Ordinal);

        await chat.StandardInput.WriteLineAsync("/quit");
        await chat.StandardInput.FlushAsync();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await chat.WaitForExitAsync(exit.Token);
        await reader;
        Assert.True(chat.ExitCode == 0, await chat.StandardError.ReadToEndAsync());
    }

    [Fact]
    public async Task ChatWhenTheServerIsKilledEndsWithOneErrorLineWithoutInput()
    {
        using var work = new Workspace();
        await using var server = await ServerProcess.StartAsync(work.Combine("server"));
        var alice = await work.RegisterAsync(server, "alice");
        await work.RegisterAsync(server, "bob");

        using var chat = RunningParley.Start(alice, "chat", "bob");
        await chat.WaitForAsync("chatting with bob");
        await server.KillAsync();

        // Nothing is typed: the chat must notice on its own that the server is gone.
        await chat.ExitAsync(TimeSpan.FromSeconds(30));
        chat.AssertEndedWithUnreachableServer();
    }

    private static async Task WaitForAsync(StringBuilder output, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            lock (output)
            {
                if (output.ToString().Contains(expected, StringComparison.Ordinal))
                {
                    return;
                }
            }

            await Task.Delay(200);
        }

        lock (output)
        {
            Assert.Fail($"chat never showed \"{expected}\"; it printed:\n{output}");
        }
    }

}
