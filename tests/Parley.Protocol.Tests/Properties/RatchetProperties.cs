using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using Parley.Protocol.Primitives;
using Parley.Protocol.Session;
using Parley.Protocol.Tests.Behaviour;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Tests.Properties;

/// <summary>
/// Invariants of the Double Ratchet, checked on generated conversations: delivery order, tampering,
/// replay and persistence never change what a user sees.
/// </summary>
public class RatchetProperties
{
    private const int MaxMessages = 40;

    /// <summary>
    /// Alice sends messages across several of her chains (Bob's replies make her ratchet); they reach
    /// Bob in any order. Each decrypts exactly once to its own text, and every redelivery is a replay.
    /// </summary>
    [Property(MaxTest = 60)]
    public void AnyDeliveryOrderDecryptsEachMessageExactlyOnce(PositiveInt count, int seed)
    {
        var n = Math.Min(count.Get, MaxMessages);
        var random = new Random(seed);
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));

        var sent = new List<(string Text, byte[] Bytes)>();
        for (var i = 0; i < n; i++)
        {
            sent.Add(($"message {i}", c.AliceSends($"message {i}")));
            if (random.Next(4) == 0)
            {
                c.AliceReads(c.BobSends($"reply {i}"));
            }
        }

        foreach (var index in Enumerable.Range(0, n).OrderBy(_ => random.Next()))
        {
            Assert.Equal(sent[index].Text, c.BobReads(sent[index].Bytes));
            if (random.Next(5) == 0)
            {
                c.Persist();
            }
        }

        foreach (var (_, bytes) in sent)
        {
            var error = Assert.Throws<ParleyProtocolException>(() => c.BobReads(bytes));
            Assert.Equal(ProtocolErrorKind.Replayed, error.Kind);
        }
    }

    /// <summary>
    /// Flipping any single bit of a ratchet message makes it fail with a protocol error, leaves the
    /// receiver's state byte-for-byte unchanged, and the genuine message still decrypts afterwards.
    /// </summary>
    [Property(MaxTest = 200)]
    public void AnySingleBitFlipIsRejectedAndTheSessionSurvives(NonNegativeInt bitSeed, PositiveInt length)
    {
        using var c = Conversation.Start();
        c.AliceReads(c.BobSends("establish"));
        var text = new string('x', length.Get % 300);
        var genuine = c.AliceSends(text);
        Assert.Equal(CiphertextMessage.BodyOneofCase.Ratchet, RatchetSession.ParseMessage(genuine).BodyCase);

        var bit = bitSeed.Get % (genuine.Length * 8);
        var forged = (byte[])genuine.Clone();
        forged[bit / 8] ^= (byte)(1 << (bit % 8));
        var before = c.BobSession.Serialize();

        Assert.Throws<ParleyProtocolException>(() => c.BobSession.Decrypt(forged));

        Assert.Equal(before, c.BobSession.Serialize());
        Assert.Equal(text, c.BobReads(genuine));
    }

    /// <summary>
    /// The same scripted conversation, with the same randomness, produces the same bytes whether or
    /// not the sessions are serialized and restored between steps: persistence is invisible.
    /// </summary>
    [Property(MaxTest = 40)]
    public void SerializeAndRestoreAtAnyPointIsInvisible(int scriptSeed, int persistSeed)
    {
        var plain = RunScript(scriptSeed, persistSeed: null);
        var persisted = RunScript(scriptSeed, persistSeed);
        Assert.Equal(plain, persisted);
    }

    /// <summary>Runs a random script of sends and deliveries and returns every byte sent and read.</summary>
    private static List<string> RunScript(int scriptSeed, int? persistSeed)
    {
        var script = new Random(scriptSeed);
        var persist = persistSeed is { } s ? new Random(s) : null;
        var transcript = new List<string>();
        var stream = new DeterministicStream(scriptSeed);
        using (RandomSource.UseDeterministicSourceForVectors(stream.Fill))
        {
            using var c = Conversation.Start();
            var toBob = new List<byte[]>();
            var toAlice = new List<byte[]>();
            for (var step = 0; step < 30; step++)
            {
                switch (script.Next(4))
                {
                    case 0:
                        toBob.Add(c.AliceSends($"a{step}"));
                        transcript.Add(Convert.ToHexString(toBob[^1]));
                        break;
                    case 1:
                        toAlice.Add(c.BobSends($"b{step}"));
                        transcript.Add(Convert.ToHexString(toAlice[^1]));
                        break;
                    case 2 when toBob.Count > 0:
                        transcript.Add(c.BobReads(Take(toBob, script)));
                        break;
                    case 3 when toAlice.Count > 0:
                        transcript.Add(c.AliceReads(Take(toAlice, script)));
                        break;
                }

                if (persist is not null && persist.Next(2) == 0)
                {
                    c.Persist();
                }
            }
        }

        return transcript;
    }

    private static byte[] Take(List<byte[]> queue, Random random)
    {
        var index = random.Next(queue.Count);
        var message = queue[index];
        queue.RemoveAt(index);
        return message;
    }

    /// <summary>SHA-256 in counter mode over a seed: a reproducible byte stream for the test only.</summary>
    private sealed class DeterministicStream(int seed)
    {
        private readonly byte[] block = new byte[32];
        private long counter;
        private int used = 32;

        public void Fill(Span<byte> destination)
        {
            Span<byte> input = stackalloc byte[12];
            for (var i = 0; i < destination.Length; i++)
            {
                if (used == block.Length)
                {
                    BitConverter.TryWriteBytes(input, seed);
                    BitConverter.TryWriteBytes(input[4..], counter++);
                    SHA256.HashData(input, block);
                    used = 0;
                }

                destination[i] = block[used++];
            }
        }
    }
}
