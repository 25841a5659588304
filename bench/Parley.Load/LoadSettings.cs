namespace Parley.Load;

/// <summary>What every scenario is told: which server, which storage, how bounded, how reported.</summary>
internal sealed record LoadSettings
{
    internal string Storage { get; init; } = "sqlite";

    /// <summary>Data directory of the started server; kept between runs so the users cached in it stay registered.</summary>
    internal string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "parley-load", "sqlite");

    /// <summary>How many `parley serve` nodes to start (above 1: postgres, with a private redis-server).</summary>
    internal int Nodes { get; init; } = 1;

    internal string? ParleyExecutable { get; init; }

    internal Uri? Server { get; init; }

    internal string? CaFingerprint { get; init; }

    /// <summary>Upper bound on a scenario's measured phase.</summary>
    internal TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(60);

    internal bool Json { get; init; }

    /// <summary>Appends the JSON line here too (for `plot`).</summary>
    internal string? ResultsFile { get; init; }

    internal bool Anchor { get; init; }

    /// <summary>Tag of this run in the JSON line (before, after, ...).</summary>
    internal string? Label { get; init; }

    /// <summary>One Send call per message instead of one SendStream call per user (the "before" figures).</summary>
    internal bool UnarySends { get; init; }

    /// <summary>No progress bar (tests and non-interactive runs).</summary>
    internal bool Quiet { get; init; }
}
