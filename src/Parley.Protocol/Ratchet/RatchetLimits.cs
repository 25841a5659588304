namespace Parley.Protocol.Ratchet;

/// <summary>Bounds on what a session keeps for out-of-order messages (Double Ratchet §3.2, MAX_SKIP).</summary>
public static class RatchetLimits
{
    /// <summary>How many message keys one chain may skip at once.</summary>
    public const int MaxSkip = 1000;

    /// <summary>How many skipped keys a session stores in all; past it, the oldest are evicted.</summary>
    public const int MaxStoredSkippedKeys = 2000;

    /// <summary>How many past receiving chains a session remembers, to report their messages as replays.</summary>
    public const int MaxRetiredChains = 8;
}
