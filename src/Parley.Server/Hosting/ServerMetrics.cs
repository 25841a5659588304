using System.Diagnostics.Metrics;
using Prometheus;

namespace Parley.Server.Hosting;

/// <summary>The server's Prometheus metrics, served at /metrics.</summary>
internal static class ServerMetrics
{
    internal static readonly Gauge ReceiveStreams = Metrics.CreateGauge("parley_receive_streams", "Connected Receive streams.");

    internal static readonly Counter MessagesAccepted = Metrics.CreateCounter("parley_messages_accepted_total", "Messages committed to a mailbox.");

    internal static readonly Counter MessagesDuplicate = Metrics.CreateCounter("parley_messages_duplicate_total", "Sends retried with an id already stored.");

    internal static readonly Counter PushedBeforeCommit = Metrics.CreateCounter("parley_messages_pushed_before_commit_total", "Messages pushed to a connected recipient while their commit was still under way.");

    internal static readonly Counter MessagesDelivered = Metrics.CreateCounter("parley_messages_delivered_total", "Messages acknowledged by their recipient.");

    internal static readonly Counter Refused = Metrics.CreateCounter("parley_requests_refused_total", "Requests refused, by reason.", "reason");

    internal static readonly Gauge QueueDepth = Metrics.CreateGauge("parley_queue_depth", "Messages waiting in all mailboxes.");

    internal static readonly Histogram SendCommitSeconds = Metrics.CreateHistogram(
        "parley_send_commit_seconds",
        "Time from receiving a send to its durable commit.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    internal static readonly Histogram CommitBatchSize = Metrics.CreateHistogram(
        "parley_store_commit_batch_writes",
        "Writes that shared one durable commit (group commit): the higher, the fewer fsyncs per message.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 10) });

    internal static readonly Gauge RedisConnected = Metrics.CreateGauge("parley_redis_link_healthy", "1 while this node's Redis link works (a ping comes back through the subscription), else 0 (always 0 on a node without Redis).");

    internal static readonly Counter ClusterEventsPublished = Metrics.CreateCounter("parley_cluster_events_published_total", "Events this node published to the other nodes (wake-ups, takeovers, revocations).");

    internal static readonly Counter ClusterEventsReceived = Metrics.CreateCounter("parley_cluster_events_received_total", "Events received from other nodes, by kind.", "kind");

    internal static readonly Counter StreamsTakenOver = Metrics.CreateCounter("parley_receive_streams_taken_over_total", "Receive streams ended because a newer stream of the same user opened.");

    /// <summary>
    /// Which .NET meters /metrics publishes besides these: all but Kestrel's memory pool. It records
    /// every block its pipes rent and return, several per message, and prometheus-net finds the
    /// labelled series under a lock for each: 12 % of the server's CPU samples at 10,000 msgs/s.
    /// The pool's bytes are in the process's memory figures anyway.
    /// </summary>
    internal static bool Publishes(Instrument instrument) => instrument.Meter.Name != "Microsoft.AspNetCore.MemoryPool";
}
