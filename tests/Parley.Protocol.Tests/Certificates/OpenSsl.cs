using System.Diagnostics;
using Xunit;

namespace Parley.Protocol.Tests.Certificates;

/// <summary>
/// Runs the real <c>openssl</c> binary in a fresh temporary directory, deleted on dispose. A missing
/// binary fails the test (CI installs openssl); it never skips.
/// </summary>
internal sealed class OpenSsl : IDisposable
{
    private const string PreferredPath = "/usr/bin/openssl";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("parley-openssl-");

    /// <summary>The temporary working directory.</summary>
    internal string WorkingDirectory => _directory.FullName;

    /// <summary>Writes a file into the working directory and returns its name.</summary>
    internal string Write(string fileName, string contents)
    {
        File.WriteAllText(Path.Combine(WorkingDirectory, fileName), contents);
        return fileName;
    }

    /// <summary>Reads a file from the working directory.</summary>
    internal string Read(string fileName) => File.ReadAllText(Path.Combine(WorkingDirectory, fileName));

    /// <summary>Runs openssl with the given arguments in the working directory.</summary>
    internal Result Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Binary())
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"openssl {string.Join(' ', arguments)} did not finish within {Timeout}");
        }

        return new Result(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static string Binary()
    {
        if (File.Exists(PreferredPath))
        {
            return PreferredPath;
        }

        string? onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "openssl"))
            .FirstOrDefault(File.Exists);
        Assert.True(onPath is not null, "the openssl binary is required for these tests (install the openssl package)");
        return onPath;
    }

    /// <summary>What a run of openssl produced.</summary>
    internal sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Output}\nstderr: {Error}";
    }
}
