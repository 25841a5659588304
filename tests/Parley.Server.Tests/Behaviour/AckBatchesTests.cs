using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Server.Delivery;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// <see cref="AckBatches"/>: acks that arrive one per request while the previous batch is being
/// applied are applied together, so a client that acks each envelope alone still gets its acks
/// applied at the pace of the commits, not one per commit.
/// </summary>
public sealed class AckBatchesTests
{
    [Fact]
    public async Task RequestsThatArriveWhileABatchIsAppliedFormTheNextBatch()
    {
        var requests = new ScriptedRequests();
        var ids = Enumerable.Range(0, 40).Select(Id).ToArray();
        requests.Arrive(Ack(ids[0]));
        await using var batches = AckBatches.ReadAsync(requests, 16, 1024, CancellationToken.None).GetAsyncEnumerator();

        Assert.True(await batches.MoveNextAsync());
        Assert.Equal([ids[0]], batches.Current);

        // The first batch is still being applied: 39 more requests arrive, one ack each.
        foreach (var id in ids[1..])
        {
            requests.Arrive(Ack(id));
        }

        Assert.True(await batches.MoveNextAsync());
        Assert.Equal(ids[1..], batches.Current);

        requests.End();
        Assert.False(await batches.MoveNextAsync());
    }

    [Fact]
    public async Task ABatchStopsAtTheLimitAndTheRestFollows()
    {
        var requests = new ScriptedRequests();
        var ids = Enumerable.Range(0, 10).Select(Id).ToArray();
        foreach (var id in ids)
        {
            requests.Arrive(Ack(id));
        }

        requests.End();
        var batches = new List<List<byte[]>>();
        await foreach (var batch in AckBatches.ReadAsync(requests, 16, 4, CancellationToken.None))
        {
            batches.Add(batch);
        }

        Assert.Equal([4, 4, 2], batches.Select(batch => batch.Count));
        Assert.Equal(ids, batches.SelectMany(batch => batch));
    }

    [Fact]
    public async Task MalformedIdsAndEmptyRequestsAreSkipped()
    {
        var requests = new ScriptedRequests();
        var good = Id(1);
        requests.Arrive(new ReceiveRequest());
        requests.Arrive(new ReceiveRequest { Ack = { ByteString.CopyFrom(new byte[15]), ByteString.CopyFrom(good) } });
        requests.End();

        var batches = new List<List<byte[]>>();
        await foreach (var batch in AckBatches.ReadAsync(requests, 16, 1024, CancellationToken.None))
        {
            batches.Add(batch);
        }

        Assert.Equal([good], Assert.Single(batches));
    }

    private static byte[] Id(int n)
    {
        var id = new byte[16];
        id[0] = (byte)n;
        id[15] = 0xA5;
        return id;
    }

    private static ReceiveRequest Ack(byte[] id) => new() { Ack = { ByteString.CopyFrom(id) } };

    /// <summary>A request stream fed by the test: MoveNext completes at once for a request that already arrived.</summary>
    private sealed class ScriptedRequests : IAsyncStreamReader<ReceiveRequest>
    {
        private readonly Queue<ReceiveRequest> arrived = new();
        private TaskCompletionSource<bool>? waiting;
        private bool ended;

        public ReceiveRequest Current { get; private set; } = null!;

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            Assert.Null(waiting);
            if (arrived.TryDequeue(out var request))
            {
                Current = request;
                return Task.FromResult(true);
            }

            if (ended)
            {
                return Task.FromResult(false);
            }

            waiting = new TaskCompletionSource<bool>();
            return waiting.Task;
        }

        internal void Arrive(ReceiveRequest request)
        {
            arrived.Enqueue(request);
            Wake();
        }

        internal void End()
        {
            ended = true;
            Wake();
        }

        private void Wake()
        {
            if (waiting is { } reader)
            {
                waiting = null;
                reader.SetResult(MoveNext(CancellationToken.None).Result);
            }
        }
    }
}
