using Google.Protobuf;

namespace Parley.Protocol.Internal;

/// <summary>Parses untrusted protobuf bytes; every failure becomes a Malformed protocol error.</summary>
internal static class WireParsing
{
    internal static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes, string what)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error.Malformed(what, e);
        }
    }
}
