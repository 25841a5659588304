using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.EndToEnd;

/// <summary>A long-running `parley` (invite, chat) whose output is collected as it comes.</summary>
internal sealed partial class RunningParley : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly Task readers;

    private RunningParley(Process process)
    {
        Process = process;
        readers = Task.WhenAll(Pump(process.StandardOutput, stdout), Pump(process.StandardError, stderr));
    }

    internal Process Process { get; }

    internal int ExitCode => Process.ExitCode;

    internal string Stdout
    {
        get
        {
            lock (stdout)
            {
                return stdout.ToString();
            }
        }
    }

    internal string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Starts `parley <paramref name="args"/>` as <paramref name="user"/>. Its input is always a pipe of
    /// the test's own, never the test runner's: chat reads it, and closing it is how a chat is ended.
    /// </summary>
    internal static RunningParley Start(IReadOnlyDictionary<string, string> user, params string[] args) =>
        new(ParleyExecutable.Start(user, args, redirectInput: true));

    /// <summary>The safety number printed after "safety number with NAME:".</summary>
    internal static string SafetyNumber(string stdout)
    {
        var match = SafetyNumberPattern().Match(stdout);
        Assert.True(match.Success, $"no safety number in:\n{stdout}");
        return match.Groups[1].Value;
    }

    /// <summary>The inviting side prints its code first; read it from stdout once its line is whole.</summary>
    internal async Task<string> WaitForCodeAsync()
    {
        await WaitForAsync("code: ");
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var match = CodePattern().Match(Stdout);
            if (match.Success)
            {
                return match.Groups[1].Value;
            }

            if (Process.HasExited)
            {
                await readers;
                match = CodePattern().Match(Stdout);
                return match.Success ? match.Groups[1].Value : throw new TimeoutException($"exited without a whole code line:\n{this}");
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no code line:\n{this}");
    }

    /// <summary>
    /// This side ran `parley invite`: reads its code, runs `parley join` with it as <paramref name="joiner"/>
    /// to the end, then waits for this side to end too.
    /// </summary>
    internal async Task<ParleyExecutable.Result> JoinAsync(IReadOnlyDictionary<string, string> joiner)
    {
        var code = await WaitForCodeAsync();
        var joined = await ParleyExecutable.RunAsync(joiner, null, "join", code);
        await ExitAsync();
        return joined;
    }

    /// <summary>
    /// This side ran `parley chat --new-code` as <paramref name="hostName"/>: reads its code, starts
    /// `parley chat --code` with it as <paramref name="guest"/>, and returns the guest once both sides
    /// say they are connected to each other.
    /// </summary>
    internal async Task<RunningParley> JoinChatAsync(IReadOnlyDictionary<string, string> guest, string hostName, string guestName)
    {
        var code = await WaitForCodeAsync();
        var guestSide = Start(guest, "chat", "--code", code);
        try
        {
            await WaitForAsync($"connected to {guestName}");
            await guestSide.WaitForAsync($"connected to {hostName}");
            return guestSide;
        }
        catch
        {
            guestSide.Dispose();
            throw;
        }
    }

    internal async Task WaitForAsync(string expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (Stdout.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }

            if (Process.HasExited)
            {
                await readers;
                Assert.Contains(expected, Stdout, StringComparison.Ordinal);
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"never printed \"{expected}\":\n{this}");
    }

    internal async Task WriteLineAsync(string line)
    {
        await Process.StandardInput.WriteLineAsync(line);
        await Process.StandardInput.FlushAsync();
    }

    /// <summary>A server killed mid-exchange: one `parley: error:` line saying so, no trace, a failing exit code.</summary>
    internal void AssertEndedWithUnreachableServer()
    {
        Assert.True(ExitCode != 0, ToString());
        var line = Assert.Single(Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("parley: error: cannot reach the server", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
    }

    /// <summary>Waits for the process to end by itself within <paramref name="timeout"/> (default 90 s); a hang fails the test.</summary>
    internal async Task ExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? Patience;
        using var wait = new CancellationTokenSource(limit);
        try
        {
            await Process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"still running after {limit.TotalSeconds} s:\n{this}");
        }

        await readers;
    }

    public override string ToString() => $"stdout:\n{Stdout}\nstderr:\n{Stderr}";

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    // Chunks, not lines: a prompt or a line still being written shows as soon as it is read.
    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[1024];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
    }

    // The line's end is part of the match: output is read in chunks, and a code cut off by the end
    // of what has arrived so far must not be taken for the whole code.
    [GeneratedRegex(@"^code: (\S+)\r?\n", RegexOptions.Multiline)]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"safety number with \S+:\s+((?:\d{5} ){11}\d{5})")]
    private static partial Regex SafetyNumberPattern();
}
