using System.Runtime.CompilerServices;
using Grpc.Core;
using Parley.Api;

namespace Parley.Server.Delivery;

/// <summary>
/// The acknowledged ids of a Receive stream, in batches: every request that arrived while the
/// caller was applying the previous batch goes into the next one. A client that acks each
/// envelope on its own (as the client library does) would otherwise get one request applied per
/// commit, and its stream, with its in-flight window full, would fall back to reading the store.
/// </summary>
internal static class AckBatches
{
    /// <summary>
    /// Yields the well-formed ids (<paramref name="idSize"/> bytes) of the requests, at most
    /// <paramref name="maxIds"/> per batch (a request is never split, so one can exceed it). The
    /// next request is already being read while the caller works on a batch.
    /// </summary>
    internal static async IAsyncEnumerable<List<byte[]>> ReadAsync(IAsyncStreamReader<ReceiveRequest> requests, int idSize, int maxIds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = requests.MoveNext(cancellationToken);
        while (await next.ConfigureAwait(false))
        {
            var ids = new List<byte[]>();
            do
            {
                foreach (var id in requests.Current.Ack)
                {
                    if (id.Length == idSize)
                    {
                        ids.Add(RequestBytes.Take(id));
                    }
                }

                next = requests.MoveNext(cancellationToken);
            }
            while (ids.Count < maxIds && next.IsCompletedSuccessfully && next.Result);

            if (ids.Count > 0)
            {
                yield return ids;
            }
        }
    }
}
