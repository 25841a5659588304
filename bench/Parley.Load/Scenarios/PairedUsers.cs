using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Load.Server;
using Parley.Load.Users;

namespace Parley.Load.Scenarios;

/// <summary>
/// P sender→receiver pairs over the real server, each with a real PQXDH session: the sender
/// fetches the receiver's bundle from the directory, its first message is a PreKeyMessage, and
/// the receiver's reply completes the handshake (so timed messages are plain ratchet messages).
/// Receivers answer a Ping with a Pong; every Data message is counted once per sequence number.
/// </summary>
internal sealed class PairedUsers : IAsyncDisposable
{
    private readonly ServerUnderTest server;
    private readonly LoadUser[] senders;
    private readonly LoadUser[] receivers;
    private readonly Inbox?[] senderInboxes;
    private readonly Inbox?[] receiverInboxes;
    private readonly ReceivedLedger[] ledgers;
    private readonly TaskCompletionSource<TimeSpan>?[] pongs;
    private long lastDeliveredTimestamp;

    private readonly bool unarySends;

    private PairedUsers(ServerUnderTest server, LoadUser[] senders, LoadUser[] receivers, int expectedPerPair, bool unarySends)
    {
        this.server = server;
        this.unarySends = unarySends;
        this.senders = senders;
        this.receivers = receivers;
        senderInboxes = new Inbox?[senders.Length];
        receiverInboxes = new Inbox?[receivers.Length];
        ledgers = [.. Enumerable.Range(0, senders.Length).Select(_ => new ReceivedLedger(expectedPerPair))];
        pongs = new TaskCompletionSource<TimeSpan>?[senders.Length];
    }

    internal int Count => senders.Length;

    /// <summary>Called at the receiver for every decrypted Data message (after it is counted).</summary>
    internal Action<Payload>? OnData { get; set; }

    internal long Delivered => ledgers.Sum(l => l.Delivered);

    internal long Duplicates => ledgers.Sum(l => l.Duplicates);

    internal long DecryptFailures => senderInboxes.Concat(receiverInboxes).Sum(i => i?.Failures ?? 0);

    /// <summary>Leftovers of an earlier interrupted run, acknowledged unread when the streams opened.</summary>
    internal long Stale => senderInboxes.Concat(receiverInboxes).Sum(i => i?.Stale ?? 0);

    /// <summary>Stopwatch timestamp of the last Data message decrypted.</summary>
    internal long LastDeliveredTimestamp => Interlocked.Read(ref lastDeliveredTimestamp);

    internal int Missing(int perPair) => ledgers.Sum(l => l.Missing(perPair));

    internal int MissingOfPair(int pair, int expected) => ledgers[pair].Missing(expected);

    /// <summary>Pairs users[2i] → users[2i+1] (all connected), opens their streams and completes every handshake.</summary>
    internal static async Task<PairedUsers> OpenAsync(ServerUnderTest server, LoadSettings settings, IReadOnlyList<LoadUser> users, int expectedPerPair, CancellationToken cancellationToken)
    {
        var pairs = users.Count / 2;
        var paired = new PairedUsers(
            server,
            [.. Enumerable.Range(0, pairs).Select(i => users[2 * i])],
            [.. Enumerable.Range(0, pairs).Select(i => users[(2 * i) + 1])],
            expectedPerPair,
            settings.UnarySends);
        await Parallel.ForEachAsync(Enumerable.Range(0, pairs), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            await paired.receivers[i].UploadPreKeysAsync(ct);
            await paired.senders[i].InitiateAsync(paired.receivers[i].Name, ct);
            paired.OpenSenderInbox(i, ct);
            paired.OpenReceiverInbox(i, ct, discardStale: true);
            await Task.WhenAll(paired.senderInboxes[i]!.CaughtUp, paired.receiverInboxes[i]!.CaughtUp).WaitAsync(TimeSpan.FromSeconds(60), ct);
            await paired.PingAsync(i, -1, ct);
        });
        return paired;
    }

    /// <summary>Sends one Data message of pair <paramref name="pair"/>, retrying a refused send with the same id.</summary>
    internal Task SendDataAsync(int pair, int sequence, CancellationToken cancellationToken) =>
        SendAsync(senders[pair], receivers[pair].Name, new Payload(PayloadKind.Data, pair, sequence, Stopwatch.GetTimestamp()), cancellationToken);

    /// <summary>One round trip: encrypt, relay, decrypt, reply (encrypt, relay), decrypt.</summary>
    internal async Task<TimeSpan> PingAsync(int pair, int sequence, CancellationToken cancellationToken)
    {
        var pong = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        pongs[pair] = pong;
        await SendAsync(senders[pair], receivers[pair].Name, new Payload(PayloadKind.Ping, pair, sequence, Stopwatch.GetTimestamp()), cancellationToken);
        return await pong.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Closes the receivers' streams and connections: from now on they are offline.</summary>
    internal async Task TakeReceiversOfflineAsync()
    {
        for (var i = 0; i < receivers.Length; i++)
        {
            if (receiverInboxes[i] is { } inbox)
            {
                await inbox.DisposeAsync();
                receiverInboxes[i] = null;
            }

            await receivers[i].DisconnectAsync();
        }
    }

    /// <summary>Reconnects the receivers (new connection, login, Receive stream), <paramref name="parallelism"/> at a time.</summary>
    internal Task BringReceiversOnlineAsync(int parallelism, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(Enumerable.Range(0, receivers.Length), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            await receivers[i].ConnectAsync(server, ct);
            OpenReceiverInbox(i, ct);
        });

    private void OpenSenderInbox(int pair, CancellationToken cancellationToken) =>
        senderInboxes[pair] = Inbox.Open(senders[pair], (_, plaintext) =>
        {
            var payload = Payload.Read(plaintext);
            if (payload.Kind == PayloadKind.Pong)
            {
                pongs[payload.Pair]?.TrySetResult(payload.Age);
            }
        }, cancellationToken, discardStale: true);

    private void OpenReceiverInbox(int pair, CancellationToken cancellationToken, bool discardStale = false)
    {
        var receiver = receivers[pair];
        receiverInboxes[pair] = Inbox.Open(receiver, (from, plaintext) =>
        {
            var payload = Payload.Read(plaintext);
            switch (payload.Kind)
            {
                case PayloadKind.Data:
                    ledgers[payload.Pair].Record(payload.Sequence);
                    Interlocked.Exchange(ref lastDeliveredTimestamp, Stopwatch.GetTimestamp());
                    OnData?.Invoke(payload);
                    break;
                case PayloadKind.Ping:
                    // Replied from here, in order: the reply is encrypted before the next envelope is read.
                    _ = SendAsync(receiver, from, payload with { Kind = PayloadKind.Pong }, cancellationToken);
                    break;
            }
        }, cancellationToken, discardStale);
    }

    internal async Task SendAsync(LoadUser from, string to, Payload payload, CancellationToken cancellationToken)
    {
        var body = from.Encrypt(to, payload.Write());
        var request = new SendRequest
        {
            MessageId = UnsafeByteOperations.UnsafeWrap(RandomNumberGenerator.GetBytes(16)),
            Recipient = to,
            Body = UnsafeByteOperations.UnsafeWrap(body),
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await from.SendAsync(request, unarySends, cancellationToken);
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable && attempt < 100)
            {
                // Refused (rate, full mailbox) or cut off: the same id again is idempotent.
                await Task.Delay(TimeSpan.FromMilliseconds(10 * Math.Min(attempt + 1, 20)), cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var inbox in senderInboxes.Concat(receiverInboxes))
        {
            if (inbox is not null)
            {
                await inbox.DisposeAsync();
            }
        }
    }

    /// <summary>Which sequence numbers of one pair arrived, to count each exactly once.</summary>
    private sealed class ReceivedLedger(int expected)
    {
        private readonly HashSet<int> overflow = [];
        private readonly bool[] seen = new bool[Math.Max(expected, 0)];
        private long delivered;
        private long duplicates;

        internal long Delivered => Interlocked.Read(ref delivered);

        internal long Duplicates => Interlocked.Read(ref duplicates);

        // One receiver stream per pair: Record is called from one thread at a time.
        internal void Record(int sequence)
        {
            var fresh = sequence >= 0 && sequence < seen.Length ? !seen[sequence] : overflow.Add(sequence);
            if (sequence >= 0 && sequence < seen.Length)
            {
                seen[sequence] = true;
            }

            Interlocked.Increment(ref fresh ? ref delivered : ref duplicates);
        }

        internal int Missing(int expected) => Enumerable.Range(0, Math.Min(expected, seen.Length)).Count(i => !seen[i]);
    }
}
