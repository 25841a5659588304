namespace Parley.Protocol.Internal;

/// <summary>
/// Reads protobuf wire format from a span without allocating: the counterpart of
/// <see cref="ProtobufWriter"/> for messages read on every message. Follows the generated
/// parser: a known field with an unexpected wire type is an unknown field and is skipped, and a
/// repeated singular field keeps its last value. Anything that is not well-formed protobuf
/// throws <see cref="ParleyProtocolException"/> (Malformed) naming <c>what</c>.
/// </summary>
internal ref struct ProtobufReader
{
    private const int MaxVarintBytes = 10;

    private readonly ReadOnlySpan<byte> buffer;
    private readonly string what;
    private int position;

    internal ProtobufReader(ReadOnlySpan<byte> buffer, string what)
    {
        this.buffer = buffer;
        this.what = what;
    }

    /// <summary>The next tag (field number &lt;&lt; 3 | wire type), or false at the end of the buffer.</summary>
    internal bool TryReadTag(out uint tag)
    {
        if (position >= buffer.Length)
        {
            tag = 0;
            return false;
        }

        tag = (uint)ReadVarint();
        if (tag >> 3 == 0)
        {
            throw Error.Malformed(what);
        }

        return true;
    }

    /// <summary>A uint32 field: a varint truncated to 32 bits, as protobuf reads it.</summary>
    internal uint ReadUInt32() => (uint)ReadVarint();

    internal bool ReadBool() => ReadVarint() != 0;

    /// <summary>A bytes or embedded message field: the span of its content.</summary>
    internal ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(buffer.Length - position))
        {
            throw Error.Malformed(what);
        }

        var value = buffer.Slice(position, (int)length);
        position += (int)length;
        return value;
    }

    /// <summary>Skips the value of a field this reader does not know.</summary>
    internal void Skip(uint tag)
    {
        switch ((WireType)(tag & 7))
        {
            case WireType.Varint:
                _ = ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.LengthDelimited:
                _ = ReadLengthDelimited();
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            default:
                // Groups are never written by Parley; an end-group without a start is malformed.
                throw Error.Malformed(what);
        }
    }

    private void Advance(int count)
    {
        if (count > buffer.Length - position)
        {
            throw Error.Malformed(what);
        }

        position += count;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var i = 0; i < MaxVarintBytes; i++)
        {
            if (position >= buffer.Length)
            {
                throw Error.Malformed(what);
            }

            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Error.Malformed(what);
    }
}
