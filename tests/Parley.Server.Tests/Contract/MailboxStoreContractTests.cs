using System.Data.Common;
using System.Text;
using Parley.Server.Storage;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Contract;

/// <summary>IMailboxStore: durable, ordered, idempotent store-and-forward, on every engine.</summary>
[Collection(SharedStorage.Name)]
public sealed class MailboxStoreContractTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task EnqueueThenPeek_ReturnsEveryFieldAndASequence(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var sent = Envelope("alice", "bob", body: "hello");

        Assert.True(await store.Mailbox.EnqueueAsync(sent, None));
        var peeked = Assert.Single(await store.Mailbox.PeekAsync("bob", 0, 10, None));

        Assert.Equal(sent.MessageId, peeked.MessageId);
        Assert.Equal("alice", peeked.Sender);
        Assert.Equal("bob", peeked.Recipient);
        Assert.Equal(sent.Body, peeked.Body);
        Assert.Equal(sent.ServerTimestampMs, peeked.ServerTimestampMs);
        Assert.True(peeked.Sequence > 0);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Contains_IsTrueOnlyForTheSendersStoredUnacknowledgedEnvelope(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol");
        var sent = Envelope("alice", "bob");
        Assert.False(await store.Mailbox.ContainsAsync("alice", sent.MessageId, None));
        Assert.True(await store.Mailbox.EnqueueAsync(sent, None));

        Assert.True(await store.Mailbox.ContainsAsync("alice", sent.MessageId, None));
        Assert.False(await store.Mailbox.ContainsAsync("carol", sent.MessageId, None)); // ids are per sender
        Assert.False(await store.Mailbox.ContainsAsync("alice", Bytes(), None));

        Assert.Equal(1, await store.Mailbox.AcknowledgeAsync("bob", [sent.MessageId], None));
        Assert.False(await store.Mailbox.ContainsAsync("alice", sent.MessageId, None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Peek_IsOldestFirstAndOnlyTheRecipients(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol");
        for (var i = 0; i < 5; i++)
        {
            await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", body: $"to-bob-{i}"), None);
            await store.Mailbox.EnqueueAsync(Envelope("bob", "carol", body: $"to-carol-{i}"), None);
        }

        var bob = await store.Mailbox.PeekAsync("bob", 0, 100, None);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"to-bob-{i}"), bob.Select(BodyText));
        Assert.All(bob, e => Assert.Equal("bob", e.Recipient));
        Assert.Equal(bob.Select(e => e.Sequence).Order(), bob.Select(e => e.Sequence));
        Assert.Equal(5, bob.Select(e => e.Sequence).Distinct().Count());
        Assert.Empty(await store.Mailbox.PeekAsync("alice", 0, 100, None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Peek_AfterSequence_PagesWithoutGapsOrRepeats(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        for (var i = 0; i < 10; i++)
        {
            await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", body: $"m{i}"), None);
        }

        var seen = new List<string>();
        long after = 0;
        var pages = 0;
        while (true)
        {
            var page = await store.Mailbox.PeekAsync("bob", after, 3, None);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 3);
            Assert.All(page, e => Assert.True(e.Sequence > after));
            seen.AddRange(page.Select(BodyText));
            after = page[^1].Sequence;
            pages++;
        }

        Assert.Equal(4, pages);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), seen);
        Assert.Equal(10, await store.Mailbox.CountQueuedAsync("bob", None)); // peeking deletes nothing
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_StartedInOrderWithoutWaiting_IsStoredInThatOrder(Engine engine)
    {
        // SendStream relies on it: it starts each write before the previous one has committed.
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var sent = Enumerable.Range(0, 200).Select(i => Envelope("alice", "bob", body: $"m{i}")).ToList();

        var writes = sent.Select(e => store.Mailbox.EnqueueAsync(e, None)).ToList();
        Assert.All(await Task.WhenAll(writes), Assert.True);

        var peeked = await store.Mailbox.PeekAsync("bob", 0, 1000, None);
        Assert.Equal(sent.Select(BodyText), peeked.Select(BodyText));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_RetryOfSameSenderAndId_IsStoredOnce(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var id = Bytes();

        Assert.True(await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", id, "first"), None));
        Assert.False(await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", id, "first"), None));
        Assert.False(await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", id, "changed"), None));

        Assert.Equal(["first"], (await store.Mailbox.PeekAsync("bob", 0, 10, None)).Select(BodyText));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_ConcurrentRetries_AreStoredOnce(Engine engine)
    {
        var database = await storage.CreateDatabaseAsync(engine);
        await using var nodeA = await database.OpenAsync();
        await using var nodeB = await database.OpenAsync();
        await AddUsersAsync(nodeA, "alice", "bob");
        var envelope = Envelope("alice", "bob");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => (i % 2 == 0 ? nodeA : nodeB).Mailbox.EnqueueAsync(envelope, None))));

        Assert.Single(results, stored => stored);
        Assert.Equal(1, await nodeA.Mailbox.CountQueuedAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_SameIdFromDifferentSenders_StoresBoth(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol");
        var id = Bytes();

        Assert.True(await store.Mailbox.EnqueueAsync(Envelope("alice", "carol", id, "from-alice"), None));
        Assert.True(await store.Mailbox.EnqueueAsync(Envelope("bob", "carol", id, "from-bob"), None));

        Assert.Equal(["from-alice", "from-bob"], (await store.Mailbox.PeekAsync("carol", 0, 10, None)).Select(BodyText));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Acknowledge_DeletesOnlyTheRecipientsEnvelopes(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol", "dave");
        var shared = Bytes();
        var other = Bytes();
        await store.Mailbox.EnqueueAsync(Envelope("carol", "bob", shared, "carol-to-bob"), None);
        await store.Mailbox.EnqueueAsync(Envelope("dave", "alice", shared, "dave-to-alice"), None);
        await store.Mailbox.EnqueueAsync(Envelope("carol", "bob", other, "carol-to-bob-2"), None);

        Assert.Equal(1, await store.Mailbox.AcknowledgeAsync("bob", [shared], None));
        Assert.Equal(0, await store.Mailbox.AcknowledgeAsync("bob", [shared], None));

        Assert.Equal(["carol-to-bob-2"], (await store.Mailbox.PeekAsync("bob", 0, 10, None)).Select(BodyText));
        Assert.Equal(["dave-to-alice"], (await store.Mailbox.PeekAsync("alice", 0, 10, None)).Select(BodyText));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Acknowledge_SeveralAndUnknownIds_CountsOnlyDeleted(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var ids = Enumerable.Range(0, 4).Select(_ => Bytes()).ToArray();
        foreach (var id in ids)
        {
            await store.Mailbox.EnqueueAsync(Envelope("alice", "bob", id), None);
        }

        Assert.Equal(0, await store.Mailbox.AcknowledgeAsync("bob", [], None));
        Assert.Equal(0, await store.Mailbox.AcknowledgeAsync("bob", [Bytes()], None));
        Assert.Equal(0, await store.Mailbox.AcknowledgeAsync("nobody", [ids[0]], None));
        Assert.Equal(3, await store.Mailbox.AcknowledgeAsync("bob", [ids[0], Bytes(), ids[2], ids[3]], None));

        Assert.Equal([ids[1]], (await store.Mailbox.PeekAsync("bob", 0, 10, None)).Select(e => e.MessageId));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Counts_FollowEnqueueAndAcknowledge(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob", "carol");
        Assert.Equal(0, await store.Mailbox.CountQueuedAsync("bob", None));
        Assert.Equal(0, await store.Mailbox.CountAllQueuedAsync(None));

        var toBob = Envelope("alice", "bob");
        await store.Mailbox.EnqueueAsync(toBob, None);
        await store.Mailbox.EnqueueAsync(Envelope("alice", "bob"), None);
        await store.Mailbox.EnqueueAsync(Envelope("alice", "carol"), None);
        await store.Mailbox.EnqueueAsync(toBob, None); // a retry adds nothing

        Assert.Equal(2, await store.Mailbox.CountQueuedAsync("bob", None));
        Assert.Equal(1, await store.Mailbox.CountQueuedAsync("carol", None));
        Assert.Equal(0, await store.Mailbox.CountQueuedAsync("nobody", None));
        Assert.Equal(3, await store.Mailbox.CountAllQueuedAsync(None));

        await store.Mailbox.AcknowledgeAsync("bob", [toBob.MessageId], None);

        Assert.Equal(1, await store.Mailbox.CountQueuedAsync("bob", None));
        Assert.Equal(2, await store.Mailbox.CountAllQueuedAsync(None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Sequence_IsNeverReused(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var first = Envelope("alice", "bob");
        await store.Mailbox.EnqueueAsync(first, None);
        var firstSequence = (await store.Mailbox.PeekAsync("bob", 0, 1, None))[0].Sequence;
        await store.Mailbox.AcknowledgeAsync("bob", [first.MessageId], None);

        await store.Mailbox.EnqueueAsync(Envelope("alice", "bob"), None);

        Assert.True((await store.Mailbox.PeekAsync("bob", 0, 1, None))[0].Sequence > firstSequence);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_ToUnregisteredRecipient_Throws(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice");

        await Assert.ThrowsAnyAsync<DbException>(() => store.Mailbox.EnqueueAsync(Envelope("alice", "nobody"), None));
        Assert.Equal(0, await store.Mailbox.CountAllQueuedAsync(None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Peek_NonPositiveMax_Throws(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("max", () => store.Mailbox.PeekAsync("bob", 0, 0, None));
    }

    /// <summary>
    /// Writers on two nodes enqueue to one recipient while a reader pages by sequence, as a receive
    /// stream does: the reader must see every envelope exactly once, with none skipped because a
    /// lower sequence committed after a higher one was read.
    /// </summary>
    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task PagingReader_UnderConcurrentEnqueues_MissesNothing(Engine engine)
    {
        const int Writers = 6;
        const int PerWriter = 40;
        var database = await storage.CreateDatabaseAsync(engine);
        await using var nodeA = await database.OpenAsync();
        await using var nodeB = await database.OpenAsync();
        await AddUsersAsync(nodeA, "alice", "bob");

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var node = w % 2 == 0 ? nodeA : nodeB;
            for (var i = 0; i < PerWriter; i++)
            {
                Assert.True(await node.Mailbox.EnqueueAsync(Envelope("alice", "bob", body: $"w{w}-{i}"), None));
            }
        })).ToArray();
        var writing = Task.WhenAll(writers);

        var seen = new List<string>();
        long after = 0;
        while (true)
        {
            var done = writing.IsCompleted;
            var page = await nodeB.Mailbox.PeekAsync("bob", after, 7, None);
            seen.AddRange(page.Select(BodyText));
            if (page.Count > 0)
            {
                after = page[^1].Sequence;
            }
            else if (done)
            {
                break;
            }
            else
            {
                await Task.Delay(1);
            }
        }

        await writing;
        Assert.Equal(Writers * PerWriter, seen.Count);
        Assert.Equal(Writers * PerWriter, seen.Distinct().Count());
    }

    private static string BodyText(StoredEnvelope envelope) => Encoding.UTF8.GetString(envelope.Body);
}
