namespace Parley.Protocol.Ratchet;

/// <summary>
/// Consecutive messages on one of the peer's sending chains that have not arrived: a later message
/// of the same chain (its counter N) or the first of the next chain (its PN) proved they were sent,
/// so the Double Ratchet stored their keys as skipped (docs/protocol.md §6.5).
/// </summary>
/// <param name="Chain">
/// The peer's ratchet public key that names the chain, as it travels in every header (not secret).
/// Unique within one session; a store that keeps runs of several sessions qualifies it with the session.
/// </param>
/// <param name="First">The counter of the first missing message.</param>
/// <param name="Count">How many messages from <paramref name="First"/> on are missing.</param>
public readonly record struct MissingRun(ReadOnlyMemory<byte> Chain, uint First, uint Count)
{
    /// <summary>True when <paramref name="other"/> (one message, Count 1) lies on this run's chain within it.</summary>
    public bool Contains(MissingRun other) =>
        Chain.Span.SequenceEqual(other.Chain.Span) && other.First >= First && other.First - First < Count;
}
