using System.Diagnostics;
using System.Text.Json;

namespace Parley.Load.Reporting;

/// <summary>
/// The relay anchor measured in the same run: ../shared/anchors/relay/mosquitto-anchor.sh
/// (Mosquitto 2, MQTT QoS 1, persistence on, 10 pairs x 10,000 x 256 B, window 20) on this
/// machine. The script is run from a temporary copy because it installs its npm package beside
/// itself. Latency is compared with the TCP_NODELAY ping-pong recorded in RESULTS.md: Mosquitto's
/// default 44 ms round trip is Nagle's algorithm against delayed ACK, not its processing time.
/// </summary>
internal static class MosquittoAnchor
{
    /// <summary>RESULTS.md, `mosquitto-nodelay.conf`, median of three runs.</summary>
    internal const double NoDelayRttP50Ms = 0.16;

    internal const double NoDelayRttP99Ms = 2.4;

    internal static async Task<double?> MeasureThroughputAsync(string? anchorDirectory, CancellationToken cancellationToken)
    {
        var source = anchorDirectory ?? Locate();
        if (source is null || !File.Exists(Path.Combine(source, "mosquitto-anchor.sh")))
        {
            Console.Error.WriteLine("parley-load: the Mosquitto anchor (../shared/anchors/relay/mosquitto-anchor.sh) was not found; pass --anchor-dir");
            return null;
        }

        var copy = Path.Combine(Path.GetTempPath(), "parley-relay-anchor");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        }

        var info = new ProcessStartInfo("bash", [Path.Combine(copy, "mosquitto-anchor.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot run bash");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var line = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (process.ExitCode != 0 || line is null)
        {
            Console.Error.WriteLine($"parley-load: the Mosquitto anchor failed (exit {process.ExitCode}): {(await error).Trim()}");
            return null;
        }

        using var json = JsonDocument.Parse(line);
        return json.RootElement.TryGetProperty("aggregate_msgs_per_s", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetDouble() : null;
    }

    private static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "anchors", "relay");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
