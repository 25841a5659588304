using System.Collections.Concurrent;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.TestData;

namespace Parley.Server.Tests.Contract;

/// <summary>
/// Many concurrent sends share commits (group commit), and each is still acknowledged only after
/// its own write is committed: what a sender was told is stored is visible to another node at
/// once, survives closing and reopening, and one failing write fails alone.
/// </summary>
[Collection(SharedStorage.Name)]
public sealed class GroupCommitContractTests(StorageFixture storage)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_ConcurrentSenders_EachAckIsCommittedWhenItReturns(Engine engine)
    {
        const int Senders = 8;
        const int PerSender = 40;
        var database = await storage.CreateDatabaseAsync(engine);
        var senders = Enumerable.Range(0, Senders).Select(i => $"sender{i}").ToArray();
        var acked = new ConcurrentBag<(string Sender, byte[] Id)>();
        var invisibleAtAck = new ConcurrentBag<string>();
        await using (var node = await database.OpenAsync())
        await using (var observer = await database.OpenAsync())
        {
            await AddUsersAsync(node, [.. senders, "bob"]);
            await Task.WhenAll(senders.SelectMany(sender => Enumerable.Range(0, PerSender).Select(i => Task.Run(async () =>
            {
                var envelope = Envelope(sender, "bob", body: $"{sender}-{i}");
                Assert.True(await node.Mailbox.EnqueueAsync(envelope, None));

                // Acknowledged: another connection (another node) must already see it committed.
                if (!await observer.Mailbox.ContainsAsync(sender, envelope.MessageId, None))
                {
                    invisibleAtAck.Add($"{sender}-{i}");
                }

                acked.Add((sender, envelope.MessageId));
            }))));
        }

        Assert.Empty(invisibleAtAck);
        await using var reopened = await database.OpenAsync();
        Assert.Equal(Senders * PerSender, await reopened.Mailbox.CountQueuedAsync("bob", None));
        foreach (var (sender, id) in acked)
        {
            Assert.True(await reopened.Mailbox.ContainsAsync(sender, id, None));
        }

        var bodies = (await reopened.Mailbox.PeekAsync("bob", 0, Senders * PerSender, None)).Select(e => BodyText(e)).ToHashSet();
        Assert.Equal(Senders * PerSender, bodies.Count);
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task Enqueue_AFailingWriteAmongConcurrentOnes_FailsAlone(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            // Every fifth one names a recipient that is not registered: the engine refuses it.
            var recipient = i % 5 == 0 ? "nobody" : "bob";
            try
            {
                return (Recipient: recipient, Stored: await store.Mailbox.EnqueueAsync(Envelope("alice", recipient, body: $"m{i}"), None));
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                return (Recipient: recipient, Stored: false);
            }
        })));

        Assert.All(outcomes.Where(o => o.Recipient == "nobody"), o => Assert.False(o.Stored));
        Assert.All(outcomes.Where(o => o.Recipient == "bob"), o => Assert.True(o.Stored));
        Assert.Equal(48, await store.Mailbox.CountQueuedAsync("bob", None));
    }

    [Theory]
    [MemberData(nameof(Registry.Engines), MemberType = typeof(Registry))]
    public async Task EnqueueAndAcknowledge_Interleaved_LeaveExactlyTheUnacknowledged(Engine engine)
    {
        await using var store = await storage.OpenFreshAsync(engine);
        await AddUsersAsync(store, "alice", "bob");
        var envelopes = Enumerable.Range(0, 100).Select(i => Envelope("alice", "bob", body: $"m{i}")).ToList();
        await Task.WhenAll(envelopes.Take(50).Select(e => store.Mailbox.EnqueueAsync(e, None)));

        // Acks of the first half race enqueues of the second half through the same commits.
        var acks = Task.WhenAll(envelopes.Take(50).Chunk(5).Select(chunk => store.Mailbox.AcknowledgeAsync("bob", [.. chunk.Select(e => e.MessageId)], None)));
        var sends = Task.WhenAll(envelopes.Skip(50).Select(e => store.Mailbox.EnqueueAsync(e, None)));
        Assert.Equal(50, (await acks).Sum());
        Assert.All(await sends, Assert.True);

        var left = await store.Mailbox.PeekAsync("bob", 0, 200, None);
        Assert.Equal(envelopes.Skip(50).Select(e => BodyText(e)).ToHashSet(), left.Select(e => BodyText(e)).ToHashSet());
    }

    private static string BodyText(Parley.Server.Storage.StoredEnvelope envelope) => System.Text.Encoding.UTF8.GetString(envelope.Body);
}
