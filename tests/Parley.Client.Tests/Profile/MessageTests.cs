using System.Security.Cryptography;
using Parley.Client.Profile;

namespace Parley.Client.Tests.Profile;

public sealed class MessageTests : IDisposable
{
    private readonly TestProfiles profiles = new();

    public void Dispose() => profiles.Dispose();

    [Fact]
    public void StoreIncoming_DeduplicatesBySenderAndId()
    {
        var id = RandomNumberGenerator.GetBytes(16);
        using var store = profiles.Create("alice");

        Assert.False(store.HasIncoming("bob", id));
        Assert.True(store.StoreIncoming(Incoming(id, "bob", "original", 10), "bob", [1]));
        Assert.True(store.HasIncoming("bob", id));
        Assert.False(store.StoreIncoming(Incoming(id, "bob", "redelivered", 20), "bob", [2]));

        Assert.Equal([1], store.LoadSession("bob"));
        var entry = Assert.Single(store.History("bob"));
        Assert.Equal("original", entry.Text);

        // The same id from someone else is another message.
        Assert.False(store.HasIncoming("carol", id));
        Assert.True(store.StoreIncoming(Incoming(id, "carol", "from carol", 30), null, null));
        Assert.Equal(2, store.TakeUnshown().Count);
    }

    [Fact]
    public void EnqueueWithSession_PersistsBothTogether()
    {
        var message = Outgoing("bob", "hi", 100);
        using (var store = profiles.Create("alice"))
        {
            store.EnqueueOutgoing(message, "bob", [7, 7]);
        }

        using (var reopened = profiles.Open("alice"))
        {
            var pending = Assert.Single(reopened.PendingOutgoing());
            Assert.Equal(message.MessageId, pending.MessageId);
            Assert.Equal(message.Ciphertext, pending.Ciphertext);
            Assert.Equal([7, 7], reopened.LoadSession("bob"));

            // A write that fails (the id is taken) stores neither the message nor the session.
            var duplicate = message with { Ciphertext = [5], Text = "other" };
            Assert.Throws<ArgumentException>(() => reopened.EnqueueOutgoing(duplicate, "bob", [8, 8]));
            Assert.Equal([7, 7], reopened.LoadSession("bob"));
            Assert.Equal("hi", Assert.Single(reopened.PendingOutgoing()).Text);
        }
    }

    [Fact]
    public void StoreIncomingWithSession_PersistsBothTogether()
    {
        var message = Incoming(RandomNumberGenerator.GetBytes(16), "bob", "hello", 50);
        using (var store = profiles.Create("alice"))
        {
            Assert.True(store.StoreIncoming(message, "bob", [3, 3]));
        }

        using var reopened = profiles.Open("alice");
        Assert.True(reopened.HasIncoming("bob", message.MessageId));
        Assert.Equal([3, 3], reopened.LoadSession("bob"));
    }

    [Fact]
    public void MarkSent_MovesTheMessageToHistoryOnce()
    {
        var message = Outgoing("bob", "hi", 100);
        using var store = profiles.Create("alice");
        store.EnqueueOutgoing(message);

        Assert.True(store.MarkSent(message.MessageId, DateTimeOffset.FromUnixTimeMilliseconds(150)));
        Assert.False(store.MarkSent(message.MessageId, DateTimeOffset.FromUnixTimeMilliseconds(160)));
        Assert.False(store.MarkSent(RandomNumberGenerator.GetBytes(16), DateTimeOffset.UnixEpoch));

        Assert.Empty(store.PendingOutgoing());
        var entry = Assert.Single(store.History("bob"));
        Assert.Equal(new HistoryEntry(message.MessageId, "bob", true, "hi", MessageStatus.Delivered, DateTimeOffset.FromUnixTimeMilliseconds(150), true), entry with { MessageId = message.MessageId });
        Assert.Equal(message.MessageId, entry.MessageId);
        Assert.Throws<ArgumentException>(() => store.EnqueueOutgoing(message));
    }

    [Fact]
    public void PendingOutgoing_IsOldestFirst()
    {
        using var store = profiles.Create("alice");
        store.EnqueueOutgoing(Outgoing("bob", "second", 200));
        store.EnqueueOutgoing(Outgoing("carol", "first", 100));
        store.EnqueueOutgoing(Outgoing("bob", "third", 300));
        Assert.Equal(["first", "second", "third"], store.PendingOutgoing().Select(message => message.Text));
    }

    [Fact]
    public void TakeUnshown_ReturnsEachReceivedMessageOnce()
    {
        using (var store = profiles.Create("alice"))
        {
            store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "bob", "later", 20), null, null);
            store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "carol", null, 10, MessageStatus.Tampered), null, null);
            store.EnqueueOutgoing(Outgoing("bob", "mine", 5));

            var shown = store.TakeUnshown();
            Assert.Equal([("carol", null, MessageStatus.Tampered), ("bob", "later", MessageStatus.Delivered)], shown.Select(entry => (entry.Peer, entry.Text, entry.Status)));
            Assert.All(shown, entry => Assert.False(entry.Outgoing));
            Assert.Empty(store.TakeUnshown());

            store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "bob", "new", 30), null, null);
            Assert.Equal("new", Assert.Single(store.TakeUnshown()).Text);
        }

        using var reopened = profiles.Open("alice");
        Assert.Empty(reopened.TakeUnshown());
        Assert.Equal(3, reopened.History("bob").Count);
    }

    [Fact]
    public void History_IsOrderedByTimeInBothDirections()
    {
        using var store = profiles.Create("alice");
        var acked = Outgoing("bob", "sent, acked at 25", 5);
        store.EnqueueOutgoing(acked);
        store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "bob", "received at 30", 30), null, null);
        store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "bob", "received at 10", 10), null, null);
        store.EnqueueOutgoing(Outgoing("bob", "pending since 40", 40));
        store.StoreIncoming(Incoming(RandomNumberGenerator.GetBytes(16), "carol", "another conversation", 20), null, null);
        store.MarkSent(acked.MessageId, DateTimeOffset.FromUnixTimeMilliseconds(25));

        var history = store.History("bob");

        Assert.Equal(["received at 10", "sent, acked at 25", "received at 30", "pending since 40"], history.Select(entry => entry.Text));
        Assert.Equal([false, true, false, true], history.Select(entry => entry.Outgoing));
        Assert.Equal([true, true, true, false], history.Select(entry => entry.Sent));
        Assert.Equal([10L, 25, 30, 40], history.Select(entry => entry.Time.ToUnixTimeMilliseconds()));
    }

    [Fact]
    public void InvalidMessages_AreRefused()
    {
        using var store = profiles.Create("alice");
        Assert.Throws<ArgumentException>("message", () => store.EnqueueOutgoing(Outgoing("bob", "x", 1) with { MessageId = new byte[15] }));
        Assert.Throws<ArgumentException>("message", () => store.EnqueueOutgoing(Outgoing("", "x", 1)));
        Assert.Throws<ArgumentException>("message", () => store.StoreIncoming(Incoming([], "bob", "x", 1), null, null));
        Assert.Throws<ArgumentNullException>("peer", () => store.StoreIncoming(Incoming([1], "bob", "x", 1), null, [1]));
        Assert.Empty(store.History("bob"));
    }

    private static OutgoingMessage Outgoing(string recipient, string text, long time) =>
        new(RandomNumberGenerator.GetBytes(16), recipient, RandomNumberGenerator.GetBytes(64), text, DateTimeOffset.FromUnixTimeMilliseconds(time));

    private static IncomingMessage Incoming(byte[] id, string sender, string? text, long time, MessageStatus status = MessageStatus.Delivered) =>
        new(id, sender, text, status, DateTimeOffset.FromUnixTimeMilliseconds(time), DateTimeOffset.FromUnixTimeMilliseconds(time + 1));
}
