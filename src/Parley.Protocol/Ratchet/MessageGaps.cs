namespace Parley.Protocol.Ratchet;

/// <summary>
/// What one successful decrypt tells about the peer's messages that have not (yet) arrived, from
/// the Double Ratchet counters alone (docs/protocol.md §6.5). A message can open gaps (it came
/// after messages that were skipped) or close one (it is one of those skipped messages, arriving
/// late), never both. A message of a chain's tail sent with nothing after it opens nothing: only a
/// later message can show that an earlier one is missing.
/// </summary>
public sealed class MessageGaps
{
    private MessageGaps(IReadOnlyList<MissingRun> opened, MissingRun? closed)
    {
        Opened = opened;
        Closed = closed;
        foreach (var run in opened)
        {
            OpenedCount += run.Count;
        }
    }

    /// <summary>A message that arrived in order: nothing missing before it, nothing it was missing for.</summary>
    public static MessageGaps None { get; } = new([], null);

    /// <summary>
    /// The runs this message showed to be missing: on the chain it arrived on (N ahead of the
    /// receiving counter) and, when it starts a new chain, the previous chain's tail (PN ahead). At
    /// most two runs; empty when nothing was skipped.
    /// </summary>
    public IReadOnlyList<MissingRun> Opened { get; }

    /// <summary>How many messages <see cref="Opened"/> holds in all.</summary>
    public long OpenedCount { get; }

    /// <summary>
    /// Set when this message had been counted missing and has now arrived (it used a stored skipped
    /// key): its chain and counter, as a run of one, which lies inside a run an earlier decrypt opened.
    /// </summary>
    public MissingRun? Closed { get; }

    internal static MessageGaps Closing(byte[] chain, uint counter) => new([], new MissingRun(chain.ToArray(), counter, 1));

    internal static MessageGaps Opening(byte[]? oldChain, uint oldFrom, uint oldUntil, byte[] chain, uint until)
    {
        var oldMissing = oldChain is not null && oldUntil > oldFrom;
        if (!oldMissing && until == 0)
        {
            return None;
        }

        var runs = new List<MissingRun>(2);
        if (oldMissing)
        {
            runs.Add(new MissingRun(oldChain!.ToArray(), oldFrom, oldUntil - oldFrom));
        }

        if (until > 0)
        {
            runs.Add(new MissingRun(chain.ToArray(), 0, until));
        }

        return new MessageGaps(runs.AsReadOnly(), null);
    }

    internal static MessageGaps Opening(byte[] chain, uint from, uint until) =>
        until > from ? new MessageGaps(Array.AsReadOnly([new MissingRun(chain.ToArray(), from, until - from)]), null) : None;
}
