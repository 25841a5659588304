using System.Runtime.CompilerServices;

namespace Parley.Protocol.Internal;

/// <summary>
/// Writes protobuf wire format (protobuf.dev/programming-guides/encoding) into a buffer sized
/// beforehand with the <c>Size</c> helpers, for the few messages written on every message sent or
/// received. Writes exactly what the generated code writes for proto3 fields: fields in number
/// order, and a scalar or bytes field only when it is not its default (0, false, empty).
/// </summary>
internal ref struct ProtobufWriter
{
    private readonly Span<byte> buffer;
    private int position;

    internal ProtobufWriter(Span<byte> buffer) => this.buffer = buffer;

    /// <summary>Bytes written so far.</summary>
    internal readonly int Written => position;

    /// <summary>Size of a field's tag (field number and wire type) as a varint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int TagSize(int fieldNumber) => VarintSize((uint)fieldNumber << 3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int VarintSize(uint value) => value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;

    /// <summary>Size of a bytes field, or 0 when it is empty and therefore not written.</summary>
    internal static int BytesFieldSize(int fieldNumber, int length) =>
        length == 0 ? 0 : TagSize(fieldNumber) + VarintSize((uint)length) + length;

    /// <summary>Size of an embedded message field whose content is <paramref name="length"/> bytes (written even when empty).</summary>
    internal static int MessageFieldSize(int fieldNumber, int length) =>
        TagSize(fieldNumber) + VarintSize((uint)length) + length;

    /// <summary>Size of a uint32 field, or 0 when it is 0 and therefore not written.</summary>
    internal static int UInt32FieldSize(int fieldNumber, uint value) =>
        value == 0 ? 0 : TagSize(fieldNumber) + VarintSize(value);

    /// <summary>Size of a bool field, or 0 when it is false and therefore not written.</summary>
    internal static int BoolFieldSize(int fieldNumber, bool value) => value ? TagSize(fieldNumber) + 1 : 0;

    internal void WriteBytesField(int fieldNumber, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        WriteTag(fieldNumber, WireType.LengthDelimited);
        WriteVarint((uint)value.Length);
        value.CopyTo(buffer[position..]);
        position += value.Length;
    }

    internal void WriteUInt32Field(int fieldNumber, uint value)
    {
        if (value == 0)
        {
            return;
        }

        WriteTag(fieldNumber, WireType.Varint);
        WriteVarint(value);
    }

    internal void WriteBoolField(int fieldNumber, bool value)
    {
        if (!value)
        {
            return;
        }

        WriteTag(fieldNumber, WireType.Varint);
        buffer[position++] = 1;
    }

    /// <summary>Starts an embedded message field: its tag and the length of what follows.</summary>
    internal void WriteMessageHeader(int fieldNumber, int length)
    {
        WriteTag(fieldNumber, WireType.LengthDelimited);
        WriteVarint((uint)length);
    }

    /// <summary>The next <paramref name="length"/> bytes, for a caller that writes them itself.</summary>
    internal Span<byte> Take(int length)
    {
        var span = buffer.Slice(position, length);
        position += length;
        return span;
    }

    private void WriteTag(int fieldNumber, WireType wireType) => WriteVarint(((uint)fieldNumber << 3) | (uint)wireType);

    private void WriteVarint(uint value)
    {
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
    }
}

/// <summary>Protobuf wire types (protobuf.dev/programming-guides/encoding/#structure).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}
