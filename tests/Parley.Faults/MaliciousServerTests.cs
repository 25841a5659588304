using System.Security.Cryptography;
using System.Text.Json;
using Parley.EndToEnd;
using Parley.Protocol.Certificates;

namespace Parley.Faults;

/// <summary>
/// A server that lies: its SQLite file is edited between runs of a real `parley serve` to alter,
/// duplicate, replay, reorder and drop stored envelopes, and to serve substituted keys and
/// certificates. The real `parley` client must flag each and never show a text nobody wrote.
/// </summary>
public sealed class MaliciousServerTests : IAsyncLifetime, IDisposable
{
    private readonly Workspace work = new();
    private ServerProcess server = null!;
    private ServerDatabase database = null!;
    private Dictionary<string, string> alice = null!;
    private Dictionary<string, string> bob = null!;

    public async Task InitializeAsync()
    {
        server = await ServerProcess.StartAsync(work.Combine("server"));
        database = new ServerDatabase(server);
        alice = await work.RegisterAsync(server, "alice");
        bob = await work.RegisterAsync(server, "bob");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "hello bob");
        Assert.Equal(["ok:hello bob"], await InboxAsync(bob));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    public void Dispose() => work.Dispose();

    [Fact]
    public async Task InboxLeavesNoAcknowledgedEnvelopeOnTheServer()
    {
        // The edits below count rows: an inbox must have had its last acks applied before it ended.
        await server.KillAsync();
        Assert.Empty(await database.EnvelopesForAsync("bob"));
    }

    [Fact]
    public async Task AlteredEnvelopesAreFlaggedAndTheirTextIsNeverShown()
    {
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "altered in the ciphertext");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "altered in the header");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "untouched");
        await server.KillAsync();
        var rows = await database.EnvelopesForAsync("bob");
        Assert.Equal(3, rows.Count);
        await ReplaceBodyAsync(rows[0].Sequence, Flip(rows[0].Body, rows[0].Body.Length - 5));
        await ReplaceBodyAsync(rows[1].Sequence, Flip(rows[1].Body, 12));
        await server.StartAsync();

        // The two genuine messages never arrived intact: besides the two flags, the counters of
        // the one after them report both as missing (docs/protocol.md §6.5).
        var shown = await InboxAsync(bob);
        Assert.Equal(4, shown.Count);
        Assert.StartsWith("tampered:", shown[0], StringComparison.Ordinal);
        Assert.Matches("^(tampered|undecryptable):$", shown[1]);
        Assert.Equal("missing:", shown[2]);
        Assert.Equal("ok:untouched", shown[3]);
        Assert.DoesNotContain(shown, s => s.Contains("altered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReplayedEnvelopeIsFlaggedAndADuplicatedOneIsShownOnce()
    {
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "only once");
        await server.KillAsync();
        var original = Assert.Single(await database.EnvelopesForAsync("bob"));
        await server.StartAsync();
        Assert.Equal(["ok:only once"], await InboxAsync(bob));

        // The server keeps a copy and serves it again: under its own id (a replay), and under the
        // original id (a duplicate, as after a lost acknowledgement).
        await server.KillAsync();
        await InsertAsync(RandomNumberGenerator.GetBytes(16), original.Sender, original.Body);
        await InsertAsync(original.MessageId, original.Sender, original.Body);
        await server.StartAsync();

        Assert.Equal(["replayed:"], await InboxAsync(bob));
        Assert.Equal(1, (await HistoryAsync(bob, "alice")).Count(e => e == "ok:only once"));
    }

    [Fact]
    public async Task ReorderedEnvelopesAreEachReadOnceAsWritten()
    {
        for (var n = 1; n <= 4; n++)
        {
            await ParleyExecutable.RunOkAsync(alice, "send", "bob", $"in order {n}");
        }

        await server.KillAsync();
        var rows = await database.EnvelopesForAsync("bob");
        Assert.Equal(4, rows.Count);

        // Serve them backwards: move each to a new, higher sequence in reverse order.
        foreach (var row in Enumerable.Reverse(rows))
        {
            await database.ExecuteAsync("DELETE FROM envelopes WHERE sequence = $s", ("$s", row.Sequence));
            await InsertAsync(row.MessageId, row.Sender, row.Body);
        }

        await server.StartAsync();
        var shown = await InboxAsync(bob);
        Assert.Equal(["ok:in order 4", "ok:in order 3", "ok:in order 2", "ok:in order 1"], shown);

        // Reordered, not dropped: the gap the first one opened was closed before it was shown.
        Assert.DoesNotContain(await HistoryAsync(bob, "alice"), e => e.StartsWith("missing:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EnvelopeHeldBackAndDeliveredLaterClosesTheGapItLeft()
    {
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "held back");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "after it");
        await server.KillAsync();
        var held = (await database.EnvelopesForAsync("bob"))[0];
        await database.ExecuteAsync("DELETE FROM envelopes WHERE sequence = $s", ("$s", held.Sequence));
        await server.StartAsync();
        Assert.Equal(["missing:", "ok:after it"], await InboxAsync(bob));

        await server.KillAsync();
        await InsertAsync(held.MessageId, held.Sender, held.Body);
        await server.StartAsync();

        Assert.Equal(["ok:held back"], await InboxAsync(bob));
        Assert.Equal(["ok:hello bob", "ok:after it", "ok:held back"], await HistoryAsync(bob, "alice"));
    }

    [Fact]
    public async Task DroppedEnvelopeDoesNotStopTheOthersAndNothingIsForgedInItsPlace()
    {
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "dropped by the server");
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "after the drop");
        await server.KillAsync();
        var rows = await database.EnvelopesForAsync("bob");
        await database.ExecuteAsync("DELETE FROM envelopes WHERE sequence = $s", ("$s", rows[0].Sequence));
        await server.StartAsync();

        // The counters of the message after it show one is missing: flagged, in place, never forged.
        var inbox = await JsonLinesAsync(bob, "inbox", "--json");
        Assert.Equal(["missing:", "ok:after the drop"], StatusLines(inbox));
        Assert.Equal("gap", inbox[0].GetProperty("kind").GetString());
        Assert.Equal(1, inbox[0].GetProperty("missing").GetInt64());
        Assert.Equal("alice", inbox[0].GetProperty("from").GetString());
        Assert.Equal(["ok:hello bob", "missing:", "ok:after the drop"], await HistoryAsync(bob, "alice"));

        var history = (await ParleyExecutable.RunOkAsync(bob, "history", "alice")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, history.Length);
        Assert.EndsWith("! 1 message from alice is missing (sent before the next one; the server did not deliver it)", history[1], StringComparison.Ordinal);
        Assert.EndsWith("alice: after the drop", history[2], StringComparison.Ordinal);
        Assert.DoesNotContain(history, e => e.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DroppedEnvelopesAreFlaggedInThePlainInboxToo()
    {
        for (var n = 1; n <= 3; n++)
        {
            await ParleyExecutable.RunOkAsync(alice, "send", "bob", $"message {n}");
        }

        await server.KillAsync();
        var rows = await database.EnvelopesForAsync("bob");
        foreach (var row in rows.Take(2))
        {
            await database.ExecuteAsync("DELETE FROM envelopes WHERE sequence = $s", ("$s", row.Sequence));
        }

        await server.StartAsync();
        var lines = (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("! 2 messages from alice are missing (sent before the next one; the server did not deliver them)", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("alice: message 3", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityKeyThatTheServerSwapsIsAKeyChangeThatBlocksSending()
    {
        // The operator holds the CA key: it certifies mallory's key as "bob" and serves it, with mallory's prekeys.
        await work.RegisterAsync(server, "mallory");
        await server.KillAsync();
        using var authority = CertificateAuthority.Load(
            await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "ca.pem")),
            await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "ca.key")));
        var malloryKey = (byte[])(await database.ScalarAsync("SELECT signing_key FROM users WHERE name = 'mallory'"))!;
        var forged = authority.IssueUserCertificate("bob", malloryKey, DateTimeOffset.UtcNow);
        await database.ExecuteAsync(
            """
            UPDATE users SET (signing_key, dh_key, dh_key_signature, certificate_serial) =
                (SELECT signing_key, dh_key, dh_key_signature, $serial FROM users WHERE name = 'mallory'),
                certificate_pem = $pem
            WHERE name = 'bob'
            """,
            ("$pem", forged.Pem),
            ("$serial", forged.SerialHex));
        await SubstitutePreKeysAsync(from: "mallory", to: "bob");
        await server.StartAsync();

        var send = await ParleyExecutable.RunAsync(alice, null, "send", "bob", "for bob only");
        Assert.NotEqual(0, send.ExitCode);
        Assert.Contains("identity key of bob has changed", send.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("for bob only", (await ParleyExecutable.RunOkAsync(alice, "history", "bob")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreKeyBundleThatTheServerSwapsIsRefusedForANewContact()
    {
        await work.RegisterAsync(server, "carol");
        await work.RegisterAsync(server, "mallory");
        await server.KillAsync();
        await SubstitutePreKeysAsync(from: "mallory", to: "carol");
        await server.StartAsync();

        var send = await ParleyExecutable.RunAsync(alice, null, "send", "carol", "for carol only");
        Assert.NotEqual(0, send.ExitCode);
        Assert.StartsWith("parley: error: ", send.Stderr, StringComparison.Ordinal);
        Assert.Contains("signature", send.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("for carol only", (await ParleyExecutable.RunOkAsync(alice, "history", "carol")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateFromAnotherAuthorityIsUntrusted()
    {
        await work.RegisterAsync(server, "carol");
        await server.KillAsync();
        using var other = CertificateAuthority.Create("not the pinned CA", DateTimeOffset.UtcNow.AddMinutes(-1));
        var carolKey = (byte[])(await database.ScalarAsync("SELECT signing_key FROM users WHERE name = 'carol'"))!;
        var foreign = other.IssueUserCertificate("carol", carolKey, DateTimeOffset.UtcNow.AddMinutes(-1));
        await database.ExecuteAsync("UPDATE users SET certificate_pem = $pem WHERE name = 'carol'", ("$pem", foreign.Pem));
        await server.StartAsync();

        var send = await ParleyExecutable.RunAsync(alice, null, "send", "carol", "for carol only");
        Assert.NotEqual(0, send.ExitCode);
        Assert.Contains("carol's certificate is not acceptable", send.Stderr, StringComparison.Ordinal);
        Assert.Contains("pinned CA", send.Stderr, StringComparison.Ordinal);
    }

    private async Task SubstitutePreKeysAsync(string from, string to)
    {
        foreach (var table in new[] { "signed_pre_keys", "last_resort_kem_pre_keys", "one_time_pre_keys", "one_time_kem_pre_keys" })
        {
            await database.ExecuteAsync($"DELETE FROM {table} WHERE owner = $to", ("$to", to));
            await database.ExecuteAsync($"INSERT INTO {table} (owner, id, wire) SELECT $to, id, wire FROM {table} WHERE owner = $from", ("$to", to), ("$from", from));
        }
    }

    private Task<int> ReplaceBodyAsync(long sequence, byte[] body) =>
        database.ExecuteAsync("UPDATE envelopes SET body = $b WHERE sequence = $s", ("$b", body), ("$s", sequence));

    private Task<int> InsertAsync(byte[] messageId, string sender, byte[] body) =>
        database.ExecuteAsync(
            "INSERT INTO envelopes (message_id, sender, recipient, body, server_ts) VALUES ($id, $sender, 'bob', $body, $ts)",
            ("$id", messageId),
            ("$sender", sender),
            ("$body", body),
            ("$ts", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private static byte[] Flip(byte[] body, int at)
    {
        var copy = (byte[])body.Clone();
        copy[at] ^= 0x01;
        return copy;
    }

    /// <summary>`parley inbox --json` as "status:text" lines, in the order shown.</summary>
    private static async Task<List<string>> InboxAsync(Dictionary<string, string> user) =>
        StatusLines((await ParleyExecutable.RunOkAsync(user, "inbox", "--json")).Stdout);

    private static async Task<List<string>> HistoryAsync(Dictionary<string, string> user, string peer) =>
        StatusLines((await ParleyExecutable.RunOkAsync(user, "history", peer, "--json")).Stdout);

    private static async Task<List<JsonElement>> JsonLinesAsync(Dictionary<string, string> user, params string[] arguments) =>
        JsonLines((await ParleyExecutable.RunOkAsync(user, arguments)).Stdout);

    private static List<string> StatusLines(string output) => StatusLines(JsonLines(output));

    private static List<string> StatusLines(List<JsonElement> lines) =>
        [.. lines.Select(e => $"{e.GetProperty("status").GetString()}:{e.GetProperty("text").GetString()}")];

    private static List<JsonElement> JsonLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
}
