using System.Collections.Concurrent;
using System.Text.Json;

namespace Parley.EndToEnd;

/// <summary>
/// What one sender attempted and what the user saw of each attempt, and the check that follows a
/// run of faults: every message the sender saw acknowledged, and every message its outbox kept,
/// is in the recipient's history exactly once, as written, and nothing else is.
/// </summary>
internal sealed class DeliveryLedger(string sender, string recipient)
{
    private readonly ConcurrentDictionary<string, Outcome> attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> unexpected = new();

    internal enum Outcome
    {
        /// <summary>`parley send` exited 0: the server acknowledged it.</summary>
        Acknowledged,

        /// <summary>`parley send` said the server was unreachable: it waits in the outbox.</summary>
        Kept,

        /// <summary>The sending process was killed: the user saw nothing either way.</summary>
        Killed,
    }

    internal int Attempted => attempts.Count;

    internal int Count(Outcome outcome) => attempts.Values.Count(o => o == outcome);

    internal void Record(string text, Outcome outcome) => attempts[text] = outcome;

    /// <summary>An error the user could not have expected (anything but the server being unreachable or unavailable).</summary>
    internal void Unexpected(string what) => unexpected.Enqueue(what);

    /// <summary>Runs one `parley send` to completion and records what the user saw.</summary>
    internal async Task SendAsync(Dictionary<string, string> environment, string text)
    {
        var result = await ParleyExecutable.RunAsync(environment, null, "send", recipient, text);
        if (result.ExitCode == 0)
        {
            Record(text, Outcome.Acknowledged);
        }
        else if (result.Stderr.Contains("the message is kept", StringComparison.Ordinal))
        {
            Record(text, Outcome.Kept);
        }
        else
        {
            Record(text, Outcome.Kept);
            Unexpected($"send {text}: {result}");
        }
    }

    /// <summary>Runs `parley inbox` once; a server that is down is expected, any other failure is not.</summary>
    internal async Task ReceiveOnceAsync(Dictionary<string, string> environment)
    {
        var result = await ParleyExecutable.RunAsync(environment, null, "inbox");
        if (result.ExitCode != 0 && !result.Stderr.Contains("cannot reach the server", StringComparison.Ordinal) && !result.Stderr.Contains("the server is unavailable", StringComparison.Ordinal))
        {
            Unexpected($"inbox: {result}");
        }
    }

    /// <summary>
    /// With the server up: the sender flushes its outbox, the recipient receives until nothing is
    /// new, then both histories are compared with what was attempted.
    /// </summary>
    internal async Task<Figures> SettleAndCheckAsync(Dictionary<string, string> senderEnvironment, Dictionary<string, string> recipientEnvironment)
    {
        Assert.True(unexpected.IsEmpty, "unexpected errors during the run:\n" + string.Join("\n---\n", unexpected));
        await ParleyExecutable.RunOkAsync(senderEnvironment, "inbox");
        for (var round = 0; round < 5; round++)
        {
            var inbox = await ParleyExecutable.RunOkAsync(recipientEnvironment, "inbox");
            if (inbox.Stdout.Contains("no new messages", StringComparison.Ordinal))
            {
                break;
            }
        }

        var sent = (await HistoryAsync(senderEnvironment, recipient)).Where(e => e.From == sender).ToList();
        var received = (await HistoryAsync(recipientEnvironment, sender)).Where(e => e.From == sender).ToList();
        var pending = sent.Where(e => e.Status != "sent").Select(e => e.Text).ToList();
        Assert.True(pending.Count == 0, $"still in the sender's outbox after a flush: {string.Join(", ", pending)}");

        var stored = sent.Select(e => e.Text ?? "(no text)").ToHashSet(StringComparer.Ordinal);
        var counts = received.GroupBy(e => e.Text ?? "(no text)", StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var flagged = received.Where(e => e.Status != "ok").Select(e => $"{e.Status}: {e.Text}").ToList();
        Assert.True(flagged.Count == 0, $"messages the recipient could not read: {string.Join(", ", flagged)}");

        var acknowledgedButNotStored = attempts.Where(a => a.Value == Outcome.Acknowledged && !stored.Contains(a.Key)).Select(a => a.Key).ToList();
        Assert.True(acknowledgedButNotStored.Count == 0, $"acknowledged but missing from the sender's history: {string.Join(", ", acknowledgedButNotStored)}");
        var keptButNotStored = attempts.Where(a => a.Value == Outcome.Kept && !stored.Contains(a.Key)).Select(a => a.Key).ToList();
        Assert.True(keptButNotStored.Count == 0, $"reported as kept but missing from the outbox: {string.Join(", ", keptButNotStored)}");

        var lost = stored.Where(t => !counts.ContainsKey(t)).ToList();
        var duplicated = counts.Where(c => c.Value > 1).Select(c => $"{c.Key} x{c.Value}").ToList();
        var forged = counts.Keys.Where(t => !stored.Contains(t)).ToList();
        Assert.True(lost.Count == 0, $"lost: {string.Join(", ", lost)}");
        Assert.True(duplicated.Count == 0, $"duplicated: {string.Join(", ", duplicated)}");
        Assert.True(forged.Count == 0, $"received but never sent: {string.Join(", ", forged)}");
        return new Figures(Attempted, Count(Outcome.Acknowledged), Count(Outcome.Kept), Count(Outcome.Killed), stored.Count, received.Count, lost.Count, duplicated.Count);
    }

    private static async Task<List<Entry>> HistoryAsync(Dictionary<string, string> environment, string peer)
    {
        var output = (await ParleyExecutable.RunOkAsync(environment, "history", peer, "--json")).Stdout;
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<Entry>(line)!)];
    }

    internal sealed record Entry(
        [property: System.Text.Json.Serialization.JsonPropertyName("from")] string From,
        [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status,
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string? Text);

    /// <summary>The numbers a run reports (docs/reliability.md).</summary>
    internal sealed record Figures(int Attempted, int Acknowledged, int Kept, int Killed, int InSenderHistory, int Received, int Lost, int Duplicated)
    {
        public override string ToString() =>
            $"attempted {Attempted} (acknowledged {Acknowledged}, kept in outbox {Kept}, sender killed {Killed}); stored by sender {InSenderHistory}; received {Received}; lost {Lost}; duplicated {Duplicated}";
    }
}
