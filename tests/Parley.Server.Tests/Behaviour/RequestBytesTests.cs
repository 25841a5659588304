using Google.Protobuf;
using Parley.Api;
using Parley.Server.Delivery;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// <see cref="RequestBytes.Take"/> keeps the array a parsed bytes field owns and copies anything
/// else, so that an envelope never holds bytes beyond its own or shares an array someone else writes.
/// </summary>
public sealed class RequestBytesTests
{
    [Fact]
    public void ParsedBodyIsTakenWithoutACopy()
    {
        var body = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var parsed = SendRequest.Parser.ParseFrom(new SendRequest { Recipient = "bob", Body = ByteString.CopyFrom(body) }.ToByteArray());

        var taken = RequestBytes.Take(parsed.Body);

        Assert.Equal(body, taken);
        Assert.Same(taken, RequestBytes.Take(parsed.Body));
    }

    [Fact]
    public void PartOfALargerArrayIsCopied()
    {
        var buffer = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var part = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(16, 16));

        var taken = RequestBytes.Take(part);

        Assert.Equal(buffer[16..32], taken);
        buffer[16] = 0xFF;
        Assert.Equal(16, taken[0]);
    }
}
