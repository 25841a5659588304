using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Parley.EndToEnd;

namespace Parley.Scale.Infrastructure;

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

    internal static RunningParley Start(IReadOnlyDictionary<string, string> user, params string[] args) =>
        new(ParleyExecutable.Start(user, args, redirectInput: true));

    /// <summary>The safety number printed after "safety number with NAME:".</summary>
    internal static string SafetyNumber(string stdout)
    {
        var match = SafetyNumberPattern().Match(stdout);
        Assert.True(match.Success, $"no safety number in:\n{stdout}");
        return match.Groups[1].Value;
    }

    /// <summary>The inviting side prints its code first; read it from stdout.</summary>
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

            await Task.Delay(50);
        }

        throw new TimeoutException($"no code line:\n{this}");
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

    /// <summary>Waits for the process to end by itself within <paramref name="timeout"/> (default 90 s); a hang fails the test.</summary>
    internal async Task ExitAsync(TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? Patience);
        try
        {
            await Process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"still running after {(timeout ?? Patience).TotalSeconds} s:\n{this}");
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

    [GeneratedRegex(@"^code: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"safety number with \S+:\s+((?:\d{5} ){11}\d{5})")]
    private static partial Regex SafetyNumberPattern();
}
