using Parley.Fuzz;

namespace Parley.Faults;

/// <summary>
/// Replays the fuzz targets (fuzz/Parley.Fuzz) in process: the valid seeds each target starts
/// from, and every input in tests/corpus/TARGET/ (crashes the fuzzer found, kept after the fix).
/// </summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    public static TheoryData<string, string> CorpusFiles()
    {
        var data = new TheoryData<string, string>();
        var corpus = Path.Combine(RepositoryRoot(), "tests", "corpus");
        foreach (var directory in Directory.Exists(corpus) ? Directory.GetDirectories(corpus) : [])
        {
            foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(directory), Path.GetRelativePath(corpus, file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsOfEveryTargetAreHandled(string target)
    {
        foreach (var seed in Fixtures.Seeds(target))
        {
            FuzzTargets.Run(target, seed);
        }
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void CorpusInputIsHandled(string target, string file)
    {
        Assert.True(FuzzTargets.All.ContainsKey(target), $"tests/corpus/{target} is not a fuzz target");
        FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(RepositoryRoot(), "tests", "corpus", file)));
    }

    [Fact]
    public void EveryCorpusDirectoryIsATarget()
    {
        var corpus = Path.Combine(RepositoryRoot(), "tests", "corpus");
        Assert.True(Directory.Exists(corpus), "tests/corpus is missing");
        foreach (var directory in Directory.GetDirectories(corpus))
        {
            Assert.Contains(Path.GetFileName(directory), FuzzTargets.All.Keys);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Parley.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Parley.sln)");
    }
}
