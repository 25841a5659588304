using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Tests.Behaviour;

namespace Parley.Protocol.Tests.Properties;

/// <summary>
/// The missing-message report against a server that drops and reorders: Alice and Bob talk in
/// rounds (so Alice moves to new chains as Bob answers), and each of Alice's messages reaches Bob
/// at once, later, or never. What the decrypts reported as opened and not closed must be exactly
/// the undelivered messages a later delivered one proves were sent.
/// </summary>
public class GapProperties
{
    [Property(MaxTest = 80)]
    public void ReportedMissingIsExactlyTheDroppedMessagesBeforeTheLastDelivered(int seed, bool drop) =>
        Run(seed, drop);

    [Property(MaxTest = 40)]
    public void ReorderingAloneNeverLeavesAGap(int seed) => Assert.Empty(Run(seed, drop: false));

    /// <summary>Runs one conversation; returns the slots still reported missing (checked against the expected ones).</summary>
    private static HashSet<(string Chain, uint Counter)> Run(int seed, bool drop)
    {
        var random = new Random(seed);
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));

        var chains = new List<string>();
        var sent = new List<Sent>();
        var held = new List<Sent>();
        var delivered = new HashSet<Sent>();
        var open = new HashSet<(string Chain, uint Counter)>();

        void Deliver(Sent message)
        {
            Assert.Equal(message.Text, Encoding.UTF8.GetString(c.BobSession.Decrypt(message.Bytes, out var gaps)));
            delivered.Add(message);
            foreach (var run in gaps.Opened)
            {
                for (var n = run.First; n < run.First + run.Count; n++)
                {
                    Assert.True(open.Add((Convert.ToHexString(run.Chain.Span), n)), "a slot was reported missing twice");
                }
            }

            if (gaps.Closed is { } closed)
            {
                Assert.Equal(1u, closed.Count);
                Assert.True(open.Remove((Convert.ToHexString(closed.Chain.Span), closed.First)), "a message closed a slot never reported missing");
                Assert.Equal((message.Chain, message.Counter), (Convert.ToHexString(closed.Chain.Span), closed.First));
            }
        }

        var rounds = random.Next(1, 7);
        for (var round = 0; round < rounds; round++)
        {
            for (var i = random.Next(0, 6); i > 0; i--)
            {
                var text = $"m{sent.Count}";
                var bytes = c.AliceSends(text);
                var chain = Convert.ToHexString(MessageGapTests.Chain(bytes));
                if (!chains.Contains(chain))
                {
                    chains.Add(chain);
                }

                var message = new Sent(text, bytes, chain, MessageGapTests.Counter(bytes));
                sent.Add(message);
                held.Add(message);
            }

            // The server hands Bob some of what it holds, in any order; the rest waits or is lost.
            foreach (var message in held.OrderBy(_ => random.Next()).ToList())
            {
                switch (random.Next(drop ? 4 : 3))
                {
                    case 0:
                    case 1:
                        held.Remove(message);
                        Deliver(message);
                        break;
                    case 3:
                        held.Remove(message);
                        break;
                }
            }

            if (random.Next(3) == 0)
            {
                c.Persist();
            }

            c.AliceReads(c.BobSends($"reply {round}"));
        }

        foreach (var message in held.OrderBy(_ => random.Next()).ToList())
        {
            if (!drop || random.Next(2) == 0)
            {
                Deliver(message);
            }
        }

        // A lost message is provably missing once a later message of its chain arrived, or any
        // message of a later chain (whose PN gives its chain's length: a later chain exists only if
        // Bob read this one, so its first delivered message came while this was Bob's receiving chain).
        var expected = sent
            .Where(m => !delivered.Contains(m))
            .Where(m => delivered.Any(d =>
                (d.Chain == m.Chain && d.Counter > m.Counter) || chains.IndexOf(d.Chain) > chains.IndexOf(m.Chain)))
            .Select(m => (m.Chain, m.Counter))
            .ToHashSet();
        Assert.Equal(expected.OrderBy(s => s), open.OrderBy(s => s));
        return open;
    }

    private sealed record Sent(string Text, byte[] Bytes, string Chain, uint Counter);
}
