using Google.Protobuf;
using Grpc.Core;
using Parley.Api;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// One receiving stream per user: a newer Receive stream takes over from an older one (here on
/// one node; across nodes through Redis in tests/Parley.Scale), so that no envelope is pushed by
/// two streams at once. What the old stream had in flight, unacknowledged, the new one pushes.
/// </summary>
public sealed class StreamTakeoverTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task NewerStreamEndsTheOlderOneAndReceivesWhatWasInFlight()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var inFlight = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1], inFlight);

        using var older = bob.Connection.Mailbox.Receive();
        Assert.Equal(inFlight, (await NextEnvelopeAsync(older)).MessageId.ToByteArray());

        // Not acknowledged on the older stream; a newer one opens.
        using var newer = bob.Connection.Mailbox.Receive();
        Assert.Equal(inFlight, (await NextEnvelopeAsync(newer)).MessageId.ToByteArray());

        using (var timeout = new CancellationTokenSource(Patience))
        {
            var ended = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await older.ResponseStream.MoveNext(timeout.Token))
                {
                    Assert.Null(older.ResponseStream.Current.Envelope);
                }
            });
            Assert.Equal(StatusCode.Aborted, ended.StatusCode);
            Assert.Contains("took over", ended.Status.Detail, StringComparison.Ordinal);
        }

        // New messages reach only the newer stream; an ack there removes the in-flight one.
        await newer.RequestStream.WriteAsync(new ReceiveRequest { Ack = { ByteString.CopyFrom(inFlight) } });
        var next = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [2], next);
        Assert.Equal(next, (await NextEnvelopeAsync(newer)).MessageId.ToByteArray());
    }

    private static async Task<Envelope> NextEnvelopeAsync(AsyncDuplexStreamingCall<ReceiveRequest, ReceiveResponse> stream)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            Assert.True(await stream.ResponseStream.MoveNext(timeout.Token), "the stream ended without an envelope");
            if (stream.ResponseStream.Current.Envelope is { } envelope)
            {
                return envelope;
            }
        }
    }
}
