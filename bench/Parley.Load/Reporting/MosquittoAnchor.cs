using System.Diagnostics;
using System.Text.Json;

namespace Parley.Load.Reporting;

/// <summary>
/// The relay anchors measured in the same run, with ../shared/anchors/relay on this machine:
/// throughput by its mosquitto-anchor.sh (Mosquitto 2, MQTT QoS 1, persistence on, 10 pairs x
/// 10,000 x 256 B, window 20), and the round trip by its bench-mqtt.mjs ping-pong against a private
/// Mosquitto with set_tcp_nodelay (mosquitto-nodelay.conf): the default 44 ms round trip is Nagle's
/// algorithm against delayed ACK, not Mosquitto's processing time. Both run from a temporary copy of
/// the directory, because the npm package is installed beside the scripts. And the latency
/// scenario's own schedule offered to Mosquitto (<see cref="MosquittoPacedLatency"/>).
/// </summary>
internal static class MosquittoAnchor
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    internal static async Task<double?> MeasureThroughputAsync(string? anchorDirectory, CancellationToken cancellationToken)
    {
        var copy = CopyAnchor(anchorDirectory);
        if (copy is null)
        {
            return null;
        }

        var json = await RunForJsonAsync("bash", [Path.Combine(copy, "mosquitto-anchor.sh")], copy, "the Mosquitto anchor", cancellationToken);
        return json is { } j && j.TryGetProperty("aggregate_msgs_per_s", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetDouble() : null;
    }

    /// <summary>Mosquitto's QoS 1 ping-pong round trip (p50, p99 in ms) over 1,000 round trips, or null when it cannot run here.</summary>
    internal static Task<(double P50, double P99)?> MeasureRoundTripAsync(string? anchorDirectory, CancellationToken cancellationToken) =>
        WithBrokerAsync<(double P50, double P99)>(anchorDirectory, async (copy, broker) =>
        {
            var json = await RunForJsonAsync("node", [Path.Combine(copy, "bench-mqtt.mjs"), "pingpong", "--port", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--count", "1000"], copy, "the Mosquitto ping-pong", cancellationToken);
            return json is { } j
                && j.TryGetProperty("rtt_ms_p50", out var p50) && p50.ValueKind == JsonValueKind.Number
                && j.TryGetProperty("rtt_ms_p99", out var p99) && p99.ValueKind == JsonValueKind.Number
                ? (p50.GetDouble(), p99.GetDouble())
                : null;
        }, cancellationToken);

    /// <summary>The latency scenario's schedule offered to a private Mosquitto (<see cref="MosquittoPacedLatency"/>), or null when it cannot run here.</summary>
    internal static Task<MosquittoPacedLatency.Result?> MeasurePacedLatencyAsync(string? anchorDirectory, int pairs, double rate, int total, TimeSpan limit, CancellationToken cancellationToken) =>
        WithBrokerAsync<MosquittoPacedLatency.Result>(anchorDirectory, async (_, broker) =>
        {
            // The anchor failing must not cost the run Parley's own figures: one line, and no anchor.
            try
            {
                return await MosquittoPacedLatency.MeasureAsync(broker, pairs, rate, total, limit, cancellationToken);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await Console.Error.WriteLineAsync($"parley-load: the schedule through Mosquitto did not complete within {limit.TotalSeconds:0} s: {e.Message}");
                return null;
            }
        }, cancellationToken);

    /// <summary>Runs <paramref name="measure"/> (given the anchor's copy) against a private Mosquitto; null when the anchor cannot run here.</summary>
    private static async Task<T?> WithBrokerAsync<T>(string? anchorDirectory, Func<string, PrivateMosquitto, Task<T?>> measure, CancellationToken cancellationToken)
        where T : struct
    {
        var copy = CopyAnchor(anchorDirectory);
        if (copy is null || !await EnsureToolsAsync(copy, cancellationToken))
        {
            return null;
        }

        await using var broker = await PrivateMosquitto.StartAsync(cancellationToken);
        return broker is null ? null : await measure(copy, broker);
    }

    /// <summary>mosquitto and the mqtt npm package, installed as mosquitto-anchor.sh installs them.</summary>
    private static async Task<bool> EnsureToolsAsync(string copy, CancellationToken cancellationToken)
    {
        const string Install = """
            set -eu
            command -v mosquitto >/dev/null || { apt-get install -y -qq mosquitto >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq mosquitto; } >/dev/null 2>&1; }
            [ -d node_modules/mqtt ] || npm install --silent --no-audit --no-fund >/dev/null 2>&1
            """;
        return await RunAsync("bash", ["-c", Install], copy, "installing mosquitto and the mqtt package", cancellationToken) is not null;
    }

    /// <summary>Runs a tool and parses the last JSON line it prints; null (with one line on stderr) when it fails.</summary>
    private static async Task<JsonElement?> RunForJsonAsync(string file, IEnumerable<string> arguments, string directory, string what, CancellationToken cancellationToken)
    {
        var output = await RunAsync(file, arguments, directory, what, cancellationToken);
        var line = output?.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (line is null)
        {
            if (output is not null)
            {
                await Console.Error.WriteLineAsync($"parley-load: {what} printed no JSON line");
            }

            return null;
        }

        using var json = JsonDocument.Parse(line);
        return json.RootElement.Clone();
    }

    /// <summary>Runs a tool within <see cref="Limit"/>; its standard output, or null (with one line on stderr) when it fails.</summary>
    private static async Task<string?> RunAsync(string file, IEnumerable<string> arguments, string directory, string what, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot run {file}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await Console.Error.WriteLineAsync($"parley-load: {what} took longer than {Limit.TotalMinutes} minutes");
            return null;
        }

        if (process.ExitCode != 0)
        {
            await Console.Error.WriteLineAsync($"parley-load: {what} failed (exit {process.ExitCode}): {(await error).Trim()}");
            return null;
        }

        return await output;
    }

    private static string? CopyAnchor(string? anchorDirectory)
    {
        var source = anchorDirectory ?? Locate();
        if (source is null || !File.Exists(Path.Combine(source, "mosquitto-anchor.sh")))
        {
            Console.Error.WriteLine("parley-load: the Mosquitto anchor (../shared/anchors/relay/mosquitto-anchor.sh) was not found; pass --anchor-dir");
            return null;
        }

        // Kept between runs: npm install then runs once.
        var copy = Path.Combine(Path.GetTempPath(), "parley-relay-anchor");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        }

        return copy;
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
