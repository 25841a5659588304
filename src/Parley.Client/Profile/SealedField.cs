using System.Buffers.Binary;
using System.Text;

namespace Parley.Client.Profile;

/// <summary>
/// Names the place a sealed value lives (table, column, row key). Its encoding is the AEAD
/// associated data, so a sealed value copied to another row, column or table fails to open.
/// </summary>
internal readonly record struct SealedField(string Table, string Column, string Row)
{
    private static ReadOnlySpan<byte> Label => "parley-profile-seal-v1"u8;

    /// <summary>
    /// "parley-profile-seal-v1" || len(table) || table || len(column) || column || len(row) || row,
    /// each length a u32 big-endian count of UTF-8 bytes.
    /// </summary>
    public byte[] AssociatedData()
    {
        var table = Encoding.UTF8.GetBytes(Table);
        var column = Encoding.UTF8.GetBytes(Column);
        var row = Encoding.UTF8.GetBytes(Row);
        var data = new byte[Label.Length + (3 * sizeof(uint)) + table.Length + column.Length + row.Length];
        Label.CopyTo(data);
        var offset = Label.Length;
        foreach (var part in (ReadOnlySpan<byte[]>)[table, column, row])
        {
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(offset), (uint)part.Length);
            part.CopyTo(data, offset + sizeof(uint));
            offset += sizeof(uint) + part.Length;
        }

        return data;
    }

    /// <summary>Names the place (no value): "table.column[row]".</summary>
    public override string ToString() => $"{Table}.{Column}[{Row}]";
}
