using System.Buffers.Binary;
using System.Diagnostics;

namespace Parley.Load.Scenarios;

/// <summary>What a load message carries.</summary>
internal enum PayloadKind : byte
{
    Data = 1,
    Ping = 2,
    Pong = 3,
}

/// <summary>
/// The 256-byte plaintext of a load message: send timestamp (Stopwatch ticks of this process,
/// which both ends share), pair, sequence and kind, then filler.
/// </summary>
internal readonly record struct Payload(PayloadKind Kind, int Pair, int Sequence, long SentTimestamp)
{
    internal const int Size = 256;

    internal byte[] Write()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, SentTimestamp);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Pair);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), Sequence);
        bytes[16] = (byte)Kind;
        bytes.AsSpan(17).Fill(0x5A);
        return bytes;
    }

    internal static Payload Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new InvalidOperationException($"a load message of {bytes.Length} bytes, not {Size}");
        }

        return new Payload(
            (PayloadKind)bytes[16],
            BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes));
    }

    internal TimeSpan Age => Stopwatch.GetElapsedTime(SentTimestamp);
}
