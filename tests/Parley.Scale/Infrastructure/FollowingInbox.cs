using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Parley.EndToEnd;

namespace Parley.Scale.Infrastructure;

/// <summary>A running `parley inbox --follow --json`: the texts it has shown so far, and how it ended.</summary>
internal sealed class FollowingInbox : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> texts = [];
    private readonly StringBuilder errors = new();
    private readonly Lock gate = new();
    private readonly Task reading;
    private readonly Task readingErrors;

    private FollowingInbox(Process process)
    {
        this.process = process;
        reading = ReadAsync();
        readingErrors = ReadErrorsAsync();
    }

    internal static FollowingInbox Start(IReadOnlyDictionary<string, string> user) =>
        new(ParleyExecutable.Start(user, ["inbox", "--follow", "--json"], redirectInput: false));

    /// <summary>The texts shown, in order.</summary>
    internal IReadOnlyList<string> Texts
    {
        get
        {
            lock (gate)
            {
                return [.. texts];
            }
        }
    }

    internal bool HasExited => process.HasExited;

    /// <summary>Waits until <paramref name="text"/> has been shown; false after <paramref name="timeout"/>.</summary>
    internal Task<bool> ShowsAsync(string text, TimeSpan timeout) =>
        Deployment.EventuallyAsync(() => Task.FromResult(Texts.Contains(text)), timeout);

    /// <summary>Waits for the process to end by itself; returns its exit code and standard error.</summary>
    internal async Task<(int ExitCode, string Errors)> EndedAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(wait.Token);
        await reading;
        await readingErrors;
        lock (gate)
        {
            return (process.ExitCode, errors.ToString());
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private async Task ReadAsync()
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var json = JsonDocument.Parse(line);
            var text = json.RootElement.GetProperty("text").GetString() ?? string.Empty;
            lock (gate)
            {
                texts.Add(text);
            }
        }
    }

    private async Task ReadErrorsAsync()
    {
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            lock (gate)
            {
                errors.AppendLine(line);
            }
        }
    }
}
