using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Tests.Vectors;

/// <summary>
/// The fixed byte stream behind the published vectors (docs/protocol.md, appendix A):
/// block i = SHA-256(UTF-8(<see cref="Seed"/>) || i as a u64 big-endian), i = 0, 1, 2, …;
/// the stream is block 0 || block 1 || …, and each draw takes the next bytes. Installed with
/// RandomSource.UseDeterministicSourceForVectors, it is where every "random" byte of the scripted
/// conversation comes from. Each draw must be announced with <see cref="Expect"/>, so the vectors
/// name every byte they consumed and a change in how the library draws randomness is caught here.
/// </summary>
internal sealed class ProtocolVectorRandom
{
    /// <summary>The seed string; changing it changes every vector.</summary>
    internal const string Seed = "Parley protocol v1 test vectors";

    private readonly byte[] seed = Encoding.UTF8.GetBytes(Seed);
    private readonly Queue<(string Purpose, int Length)> expected = new();
    private readonly byte[] block = new byte[SHA256.HashSizeInBytes];
    private ulong nextBlock;
    private int blockUsed = SHA256.HashSizeInBytes;
    private int offset;

    /// <summary>Every draw so far, in order.</summary>
    internal List<ProtocolVectorDraw> Draws { get; } = [];

    /// <summary>Announces the next draw: what it is for and how many bytes it must take.</summary>
    internal void Expect(string purpose, int length) => expected.Enqueue((purpose, length));

    /// <summary>Fails if an announced draw did not happen.</summary>
    internal void AssertAllDrawn()
    {
        if (expected.Count != 0)
        {
            throw new InvalidOperationException($"expected draw '{expected.Peek().Purpose}' did not happen");
        }
    }

    /// <summary>Withdraws announced draws that did not happen; true if there were any.</summary>
    internal bool CancelPending()
    {
        var pending = expected.Count != 0;
        expected.Clear();
        return pending;
    }

    /// <summary>The bytes of the draw made for <paramref name="purpose"/>.</summary>
    internal byte[] Get(string purpose) => Draws.Single(d => d.Purpose == purpose).Bytes;

    /// <summary>The RandomSource hook.</summary>
    internal void Fill(Span<byte> destination)
    {
        if (!expected.TryDequeue(out var next))
        {
            throw new InvalidOperationException($"unannounced draw of {destination.Length} bytes");
        }

        if (next.Length != destination.Length)
        {
            throw new InvalidOperationException($"draw '{next.Purpose}' took {destination.Length} bytes, not {next.Length}");
        }

        var start = offset;
        for (var i = 0; i < destination.Length; i++)
        {
            if (blockUsed == block.Length)
            {
                NextBlock();
            }

            destination[i] = block[blockUsed++];
        }

        offset += destination.Length;
        Draws.Add(new ProtocolVectorDraw(next.Purpose, start, destination.ToArray()));
    }

    private void NextBlock()
    {
        var input = new byte[seed.Length + sizeof(ulong)];
        seed.CopyTo(input, 0);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(seed.Length), nextBlock++);
        SHA256.HashData(input, block);
        blockUsed = 0;
    }
}

/// <summary>One draw from <see cref="ProtocolVectorRandom"/>: its purpose, stream offset and bytes.</summary>
internal sealed record ProtocolVectorDraw(string Purpose, int Offset, byte[] Bytes);
