using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Parley.Server.Delivery;

/// <summary>The bytes fields of a parsed request, as the arrays the store keeps.</summary>
internal static class RequestBytes
{
    /// <summary>
    /// The array behind <paramref name="bytes"/> when it spans the whole array (what parsing gives a
    /// bytes field: an array of its own, which neither protobuf nor the server writes to), otherwise
    /// a copy. Taking it rather than copying saves the body, most of what a message allocates.
    /// </summary>
    internal static byte[] Take(ByteString bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return MemoryMarshal.TryGetArray(bytes.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToByteArray();
    }
}
