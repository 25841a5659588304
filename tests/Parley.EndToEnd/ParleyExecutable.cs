using System.Diagnostics;
using System.Text;

namespace Parley.EndToEnd;

/// <summary>
/// Runs the real `parley` executable: the one built beside this test project (same configuration),
/// or the published one named by PARLEY_EXECUTABLE (CI runs the suite again against the Native AOT binary).
/// </summary>
internal static class ParleyExecutable
{
    private static readonly Lazy<string> Path = new(Locate);

    internal static string FilePath => Path.Value;

    /// <summary>Runs one command to completion and returns its exit code and output.</summary>
    internal static async Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, string? stdin, params string[] args)
    {
        using var process = Start(environment, args, redirectInput: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"parley {string.Join(' ', args)} did not finish");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a command that must succeed; a failure reports the whole output.</summary>
    internal static async Task<Result> RunOkAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var result = await RunAsync(environment, null, args);
        Assert.True(result.ExitCode == 0, $"parley {string.Join(' ', args)} failed: {result}");
        return result;
    }

    internal static Process Start(IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> args, bool redirectInput)
    {
        var info = new ProcessStartInfo(FilePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("PARLEY_PASSPHRASE");
        info.Environment.Remove("PARLEY_PROFILE");
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start parley");
    }

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("PARLEY_EXECUTABLE") is { Length: > 0 } published)
        {
            return File.Exists(published) ? System.IO.Path.GetFullPath(published) : throw new FileNotFoundException($"PARLEY_EXECUTABLE does not exist: {published}");
        }

        // tests/Parley.EndToEnd/bin/<Configuration>/net10.0/ -> src/Parley.Cli/bin/<Configuration>/net10.0/parley
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(System.IO.Path.Combine(root.FullName, "Parley.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("cannot find the repository root (Parley.sln)");
        }

        var executable = System.IO.Path.Combine(root.FullName, "src", "Parley.Cli", "bin", configuration, "net10.0", OperatingSystem.IsWindows() ? "parley.exe" : "parley");
        return File.Exists(executable) ? executable : throw new FileNotFoundException($"the parley executable was not built: {executable}");
    }

    internal sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }
}
