using System.CommandLine;
using System.Globalization;
using Parley.Client;
using Parley.Protocol.Identity;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>`parley invite [--timeout 10m]`: prints a code and waits for the other person to join with it.</summary>
internal static class InviteCommand
{
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    internal static Command Create()
    {
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for the other person: 90s, 5m, 1h or seconds. Default 10m (the server may expire the code sooner)." };
        var command = new Command("invite", "Make a one-time code; whoever joins with it becomes a verified contact.") { timeout };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var wait = ParseTimeout(result.GetValue(timeout));
            await using var invitation = await messenger.InviteAsync(ct).ConfigureAwait(false);
            var code = invitation.Code.ToString();
            Console.WriteLine($"code: {code}");
            Console.WriteLine($"the other person runs: parley join {code}");
            await Console.Out.FlushAsync(ct).ConfigureAwait(false);
            var peer = await WaitAsync($"waiting for the other person to join (up to {Describe(wait)})", wait, token => invitation.CompleteAsync(token), ct).ConfigureAwait(false);
            PrintVerified(peer);
            return 0;
        }, cancellationToken));
        return command;
    }

    /// <summary>What both `invite` and `join` print on success: the peer, the safety number and "verified".</summary>
    internal static void PrintVerified(VerifiedPeer peer)
    {
        Console.WriteLine($"connected to {peer.Name}");
        Console.WriteLine($"safety number with {peer.Name}:");
        Console.WriteLine($"  {SafetyNumber.Format(peer.SafetyNumber)}");
        Console.WriteLine($"{peer.Name} is now a verified contact");
    }

    /// <summary>
    /// Runs <paramref name="work"/> for at most <paramref name="timeout"/>, with a spinner when
    /// stdout is a terminal and one plain line otherwise.
    /// </summary>
    internal static async Task<T> WaitAsync<T>(string status, TimeSpan timeout, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (Console.IsOutputRedirected)
            {
                Console.WriteLine(status + "...");
                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                return await work(deadline.Token).ConfigureAwait(false);
            }

            return await AnsiConsole.Status()
                .Spinner(Spinner.Known.Dots)
                .StartAsync(Markup.Escape(status), _ => work(deadline.Token))
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"nobody joined within {Describe(timeout)}; the code is no longer valid");
        }
    }

    internal static TimeSpan ParseTimeout(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultTimeout;
        }

        var trimmed = text.Trim().ToLowerInvariant();
        var (number, unit) = char.IsAsciiLetter(trimmed[^1]) ? (trimmed[..^1], trimmed[^1]) : (trimmed, 's');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > 24 * 3600)
        {
            throw new CliException($"--timeout must be a positive duration like 90s, 5m or 1h (got \"{text}\")");
        }

        return unit switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            _ => throw new CliException($"--timeout must be a positive duration like 90s, 5m or 1h (got \"{text}\")"),
        };
    }

    internal static string Describe(TimeSpan span) => span.TotalMinutes >= 1 && span.Seconds == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#}m")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#}s");
}
