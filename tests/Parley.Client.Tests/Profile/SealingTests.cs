using System.Security.Cryptography;
using System.Text;
using Parley.Client.Profile;
using Parley.Protocol.PreKeys;

namespace Parley.Client.Tests.Profile;

public sealed class SealingTests : IDisposable
{
    private const int Window = 16;
    private readonly TestProfiles profiles = new();

    public void Dispose() => profiles.Dispose();

    [Fact]
    public void SecretsAndBodies_DoNotAppearInTheFiles()
    {
        const string Text = "the eagle lands at midnight, bring the blue folder";
        var directory = profiles.PathOf("alice");
        var session = RandomNumberGenerator.GetBytes(512);
        var ciphertext = RandomNumberGenerator.GetBytes(200);
        byte[] identity, signed, oneTime, kem;
        using (var store = profiles.Create("alice"))
        {
            identity = store.Identity.Export();
            var signedRecord = SignedPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), DateTimeOffset.UnixEpoch);
            var oneTimeRecord = OneTimePreKeyRecord.Generate(store.NextPreKeyId());
            var kemRecord = KemPreKeyRecord.Generate(store.Identity, store.NextPreKeyId(), lastResort: true, DateTimeOffset.UnixEpoch);
            (signed, oneTime, kem) = (signedRecord.Serialize(), oneTimeRecord.Serialize(), kemRecord.Serialize());
            store.AddPreKeys(signedRecord, kemRecord, [oneTimeRecord], []);
            store.EnqueueOutgoing(new OutgoingMessage(RandomNumberGenerator.GetBytes(16), "bob", ciphertext, Text, DateTimeOffset.UtcNow), "bob", session);
            store.StoreIncoming(new IncomingMessage(RandomNumberGenerator.GetBytes(16), "carol", Text + " (reply)", MessageStatus.Delivered, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), null, null);

            // While open, everything written so far is in the WAL.
            var openFiles = ReadAll(directory);
            Assert.Contains(openFiles, file => file.Name.EndsWith("-wal", StringComparison.Ordinal) && file.Bytes.Length > 0);
            AssertAbsent(openFiles, Encoding.UTF8.GetBytes(Text), "message text");
            AssertAbsent(openFiles, identity, "identity");
            AssertAbsent(openFiles, session, "session");
            AssertAbsent(openFiles, ciphertext, "outbox ciphertext");
            AssertAbsent(openFiles, signed, "signed prekey");
            AssertAbsent(openFiles, oneTime, "one-time prekey");
            AssertAbsent(openFiles, kem, "KEM prekey");
        }

        var closedFiles = ReadAll(directory);
        AssertAbsent(closedFiles, Encoding.UTF8.GetBytes(Text), "message text");
        AssertAbsent(closedFiles, identity, "identity");
        AssertAbsent(closedFiles, session, "session");
        AssertAbsent(closedFiles, oneTime, "one-time prekey");
        AssertAbsent(closedFiles, kem, "KEM prekey");

        // The clear parts are there, as documented: the peer names.
        Assert.Contains(closedFiles, file => file.Bytes.AsSpan().IndexOf("carol"u8) >= 0);
    }

    [Fact]
    public void SessionsSwappedBetweenRows_FailAsCorrupt()
    {
        using (var store = profiles.Create("alice"))
        {
            store.StoreSession("bob", [1, 1, 1]);
            store.StoreSession("carol", [2, 2, 2]);
        }

        using (var raw = profiles.Raw("alice"))
        {
            Swap(raw, "sessions", "state", "peer", "'bob'", "'carol'");
        }

        using var reopened = profiles.Open("alice");
        Assert.Equal(ProfileErrorKind.Corrupt, Assert.Throws<ProfileException>(() => reopened.LoadSession("bob")).Kind);
        Assert.Equal(ProfileErrorKind.Corrupt, Assert.Throws<ProfileException>(() => reopened.LoadSession("carol")).Kind);
    }

    [Fact]
    public void MessageBodiesSwappedBetweenRows_FailAsCorrupt()
    {
        using (var store = profiles.Create("alice"))
        {
            store.StoreIncoming(Incoming("bob", "first", 1), null, null);
            store.StoreIncoming(Incoming("bob", "second", 2), null, null);
        }

        using (var raw = profiles.Raw("alice"))
        {
            Swap(raw, "messages", "body", "seq", "1", "2");
        }

        using var reopened = profiles.Open("alice");
        var error = Assert.Throws<ProfileException>(() => reopened.History("bob"));
        Assert.Equal(ProfileErrorKind.Corrupt, error.Kind);
        Assert.Equal(ProfileErrorKind.Corrupt, Assert.Throws<ProfileException>(() => reopened.TakeUnshown()).Kind);

        // A failed TakeUnshown marked nothing shown.
        using var raw2 = profiles.Raw("alice");
        Assert.Equal(2L, TestProfiles.Scalar(raw2, "SELECT count(*) FROM messages WHERE shown = 0"));
    }

    [Fact]
    public void ValueMovedToAnotherColumn_FailsAsCorrupt()
    {
        using (var store = profiles.Create("alice"))
        {
            store.EnqueueOutgoing(new OutgoingMessage(RandomNumberGenerator.GetBytes(16), "bob", [9, 9, 9], "text", DateTimeOffset.UtcNow));
        }

        using (var raw = profiles.Raw("alice"))
        {
            TestProfiles.Execute(raw, "UPDATE messages SET ciphertext = body");
        }

        using var reopened = profiles.Open("alice");
        Assert.Equal(ProfileErrorKind.Corrupt, Assert.Throws<ProfileException>(() => reopened.PendingOutgoing()).Kind);
    }

    [Fact]
    public void PinnedKeyReplacedInTheFile_FailsAsCorrupt()
    {
        using (var store = profiles.Create("alice"))
        {
            using var bob = Parley.Protocol.Identity.IdentityKeyPair.Generate();
            using var carol = Parley.Protocol.Identity.IdentityKeyPair.Generate();
            store.Pin("bob", bob.PublicKey);
            store.Pin("carol", carol.PublicKey);
        }

        using (var raw = profiles.Raw("alice"))
        {
            TestProfiles.Execute(raw, "UPDATE contacts SET identity = (SELECT identity FROM contacts WHERE name = 'carol') WHERE name = 'bob'");
        }

        using var reopened = profiles.Open("alice");
        Assert.Equal(ProfileErrorKind.Corrupt, Assert.Throws<ProfileException>(() => reopened.GetPinnedIdentity("bob")).Kind);
    }

    /// <summary>Exchanges one column's values between two rows (both read first, then both written).</summary>
    private static void Swap(Microsoft.Data.Sqlite.SqliteConnection raw, string table, string column, string keyColumn, string first, string second)
    {
        var a = TestProfiles.Scalar(raw, $"SELECT {column} FROM {table} WHERE {keyColumn} = {first}");
        var b = TestProfiles.Scalar(raw, $"SELECT {column} FROM {table} WHERE {keyColumn} = {second}");
        Assert.NotEqual(a, b);
        using var update = raw.CreateCommand();
        update.CommandText = $"UPDATE {table} SET {column} = CASE {keyColumn} WHEN {first} THEN $b ELSE $a END WHERE {keyColumn} IN ({first}, {second})";
        update.Parameters.AddWithValue("$a", a);
        update.Parameters.AddWithValue("$b", b);
        Assert.Equal(2, update.ExecuteNonQuery());
    }

    private static IncomingMessage Incoming(string sender, string text, long time) =>
        new(RandomNumberGenerator.GetBytes(16), sender, text, MessageStatus.Delivered, DateTimeOffset.FromUnixTimeMilliseconds(time), DateTimeOffset.FromUnixTimeMilliseconds(time));

    private static List<(string Name, byte[] Bytes)> ReadAll(string directory) =>
        [.. Directory.GetFiles(directory).Select(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (file, copy.ToArray());
        })];

    /// <summary>No 16-byte window of <paramref name="secret"/> occurs in any file (so no part of it leaked, not just not all of it).</summary>
    private static void AssertAbsent(List<(string Name, byte[] Bytes)> files, byte[] secret, string what)
    {
        foreach (var (name, bytes) in files)
        {
            for (var start = 0; start + Window <= secret.Length; start++)
            {
                Assert.False(bytes.AsSpan().IndexOf(secret.AsSpan(start, Window)) >= 0, $"{what} bytes {start}..{start + Window} found in {name}");
            }
        }
    }
}
