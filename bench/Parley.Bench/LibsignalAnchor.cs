using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Parley.Bench;

/// <summary>
/// Runs shared/anchors/libsignal-bench.mjs (libsignal's Rust core through its Node binding) in
/// the same run as Parley's loops, so that the two are compared on the same machine at the same
/// moment. The scripts are copied to a temporary folder; the npm install is cached under
/// ~/.cache/parley-bench/anchors, keyed by the SHA-256 of package.json.
/// </summary>
internal static class LibsignalAnchor
{
    private const string Script = "libsignal-bench.mjs";
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The anchor's figures, or null with <paramref name="note"/> saying why they are missing.</summary>
    internal static AnchorFigures? Run(double seconds, out string? note)
    {
        try
        {
            return RunCore(seconds, out note);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception or JsonException)
        {
            note = $"anchor skipped: {e.Message}";
            return null;
        }
    }

    private static AnchorFigures? RunCore(double seconds, out string? note)
    {
        var anchors = FindAnchors();
        if (anchors is null)
        {
            note = "anchor skipped: ../shared/anchors not found beside the repository (looked for Parley.sln upwards)";
            return null;
        }

        var node = FindOnPath("node");
        var npm = FindOnPath("npm");
        if (node is null || npm is null)
        {
            note = $"anchor skipped: {(node is null ? "node" : "npm")} is not installed";
            return null;
        }

        var work = Directory.CreateTempSubdirectory("parley-anchors-");
        try
        {
            // Only what the script needs: the script itself and package.json (not relay/, limits/).
            foreach (var file in Directory.EnumerateFiles(anchors))
            {
                File.Copy(file, Path.Combine(work.FullName, Path.GetFileName(file)));
            }

            var modules = EnsureInstalled(npm, Path.Combine(anchors, "package.json"), out note);
            if (modules is null)
            {
                return null;
            }

            Directory.CreateSymbolicLink(Path.Combine(work.FullName, "node_modules"), modules);
            var timeout = TimeSpan.FromSeconds(seconds * 3 + 120);
            var (exit, output, error) = Execute(node, [Script], work.FullName, timeout, ("BENCH_SECONDS", seconds.ToString(CultureInfo.InvariantCulture)));
            if (exit != 0)
            {
                note = $"anchor skipped: node {Script} exited with {exit}: {FirstLine(error)}";
                return null;
            }

            var line = output.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
            if (line is null)
            {
                note = $"anchor skipped: {Script} printed no JSON line";
                return null;
            }

            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            note = null;
            return new AnchorFigures(
                root.GetProperty("anchor").GetString() ?? "libsignal",
                root.GetProperty("session_setups_per_s").GetDouble(),
                root.GetProperty("one_way_msgs_per_s").GetDouble(),
                root.GetProperty("ping_pong_msgs_per_s").GetDouble());
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>Returns the cached node_modules for this package.json, installing it once.</summary>
    private static string? EnsureInstalled(string npm, string packageJson, out string? note)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(packageJson)))[..16];
        var cacheRoot = Path.Combine(CacheHome(), "parley-bench", "anchors");
        var installed = Path.Combine(cacheRoot, key);
        var modules = Path.Combine(installed, "node_modules");
        if (File.Exists(Path.Combine(installed, ".complete")))
        {
            note = null;
            return modules;
        }

        Console.Error.WriteLine($"# anchor: npm install into {installed} (once)");
        Directory.CreateDirectory(cacheRoot);
        var staging = Directory.CreateTempSubdirectory("parley-anchors-npm-");
        try
        {
            File.Copy(packageJson, Path.Combine(staging.FullName, "package.json"));
            var (exit, _, error) = Execute(npm, ["install", "--no-audit", "--no-fund"], staging.FullName, InstallTimeout);
            if (exit != 0)
            {
                note = $"anchor skipped: npm install failed ({exit}): {FirstLine(error)}";
                return null;
            }

            File.WriteAllText(Path.Combine(staging.FullName, ".complete"), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            if (Directory.Exists(installed))
            {
                Directory.Delete(installed, recursive: true);
            }

            // The temporary folder may be on another file system than the cache: copy, then mark complete last.
            CopyTree(staging.FullName, installed);
            note = null;
            return modules;
        }
        finally
        {
            TryDelete(staging);
        }
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        string? marker = null;
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            if (Path.GetFileName(file) == ".complete" && Path.GetDirectoryName(file) == from)
            {
                marker = file;
                continue;
            }

            File.Copy(file, target, overwrite: true);
        }

        if (marker is not null)
        {
            File.Copy(marker, Path.Combine(to, ".complete"), overwrite: true);
        }
    }

    private static (int Exit, string Output, string Error) Execute(string program, string[] arguments, string directory, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:F0} s");
        }

        process.WaitForExit();
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>&lt;repo&gt;/../shared/anchors, the repository found by walking up to Parley.sln.</summary>
    private static string? FindAnchors()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Parley.sln")))
                {
                    var anchors = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "anchors"));
                    if (File.Exists(Path.Combine(anchors, Script)))
                    {
                        return anchors;
                    }

                    break;
                }
            }
        }

        return null;
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string CacheHome()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no output)";
        return line.Length > 200 ? line[..200] : line;
    }

    private static void TryDelete(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The anchor's JSON line.</summary>
internal sealed record AnchorFigures(string Name, double SetupsPerSecond, double OneWayPerSecond, double PingPongPerSecond);
