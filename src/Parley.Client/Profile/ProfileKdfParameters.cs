namespace Parley.Client.Profile;

/// <summary>
/// Argon2id cost parameters (RFC 9106), stored in the clear beside the salt so a profile opens
/// with the parameters it was made with.
/// </summary>
/// <param name="MemoryKib">Memory in KiB (m).</param>
/// <param name="Iterations">Passes over memory (t).</param>
/// <param name="Parallelism">Lanes (p); libsodium supports 1.</param>
internal sealed record ProfileKdfParameters(long MemoryKib, long Iterations, int Parallelism)
{
    /// <summary>
    /// 19 MiB, 2 passes, 1 lane: OWASP's recommended Argon2id configuration. Every `parley`
    /// command derives the key once, so this cost is paid per command; 64 MiB × 3 passes took
    /// about a second here, which made `parley send` miss its 400 ms goal (docs/performance.md).
    /// Profiles keep the parameters they were made with.
    /// </summary>
    public static ProfileKdfParameters Default { get; } = new(19 * 1024, 2, 1);

    /// <summary>Upper bounds accepted from a file, so an altered file cannot demand unbounded work.</summary>
    public const long MaxMemoryKib = 4L * 1024 * 1024;

    /// <summary>See <see cref="MaxMemoryKib"/>.</summary>
    public const long MaxIterations = 1000;

    /// <summary>libsodium's minimum: 8 KiB.</summary>
    public const long MinMemoryKib = 8;

    /// <summary>True when libsodium accepts them and they are within the bounds above.</summary>
    public bool IsValid =>
        MemoryKib is >= MinMemoryKib and <= MaxMemoryKib
        && Iterations is >= 1 and <= MaxIterations
        && Parallelism == 1;
}
