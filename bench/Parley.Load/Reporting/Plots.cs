using System.Text.Json;
using ScottPlot;

namespace Parley.Load.Reporting;

/// <summary>The two plots of docs/performance.md, drawn with ScottPlot from result JSON lines.</summary>
internal static class Plots
{
    private static readonly string[] Percentiles = ["latency_ms_p50", "latency_ms_p90", "latency_ms_p99", "latency_ms_p999"];

    internal static IEnumerable<string> Write(IReadOnlyList<JsonElement> results, string directory)
    {
        var latency = results.Where(r => Text(r, "scenario") == "latency").ToList();
        if (latency.Count > 0)
        {
            yield return LatencyPercentiles(latency, Path.Combine(directory, "relay-latency-percentiles.png"));
        }

        var throughput = results.Where(r => Text(r, "scenario") == "throughput").ToList();
        if (throughput.Count > 0)
        {
            yield return ThroughputByPairs(throughput, Path.Combine(directory, "relay-throughput-by-pairs.png"));
        }
    }

    private static string LatencyPercentiles(List<JsonElement> runs, string path)
    {
        var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20();
        // The latest run of each series (storage and label) is the one drawn. The scale is
        // logarithmic: early runs took hundreds of milliseconds, recent ones a few.
        var latest = runs.GroupBy(Series).Select(g => g.Last()).ToList();
        foreach (var run in latest)
        {
            var ys = Percentiles.Select(p => Number(run, p) is { } ms && ms > 0 ? Math.Log10(ms) : double.NaN).ToArray();
            var line = plot.Add.Scatter(Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), ys);
            line.LegendText = $"{Series(run)} @ {Number(run, "offered_msgs_per_s"):N0} msgs/s";
            line.MarkerSize = 8;
        }

        var goal = plot.Add.HorizontalLine(Math.Log10(5));
        goal.LegendText = "goal: p99 < 5 ms";
        goal.LinePattern = LinePattern.Dashed;
        if (latest.Select(r => Number(r, "anchor_mosquitto_nodelay_rtt_ms_p99")).OfType<double>().LastOrDefault() is > 0 and var mosquitto)
        {
            var anchor = plot.Add.HorizontalLine(Math.Log10(mosquitto));
            anchor.LegendText = $"Mosquitto round trip p99, same run: {mosquitto:0.##} ms";
            anchor.LinePattern = LinePattern.Dotted;
        }

        // The latest run's schedule through Mosquitto (latency --anchor, since session 11).
        if (latest.LastOrDefault(r => Number(r, "anchor_mosquitto_paced_latency_ms_p99") is not null) is { ValueKind: JsonValueKind.Object } paced)
        {
            var ys = Percentiles.Select(p => Number(paced, "anchor_mosquitto_paced_" + p) is { } ms && ms > 0 ? Math.Log10(ms) : double.NaN).ToArray();
            var line = plot.Add.Scatter(Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), ys);
            line.LegendText = $"Mosquitto, {Series(paced)}'s schedule, same run @ {Number(paced, "offered_msgs_per_s"):N0} msgs/s";
            line.LinePattern = LinePattern.Dotted;
            line.MarkerSize = 8;
        }

        plot.Axes.Bottom.SetTicks([0, 1, 2, 3], ["p50", "p90", "p99", "p99.9"]);
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.Label.Text = "send → decrypted at receiver (ms, log scale)";
        plot.Title("Parley relay latency at half its throughput (2 cores, loopback, durable)");
        plot.ShowLegend(Edge.Right); // beside the data, as in the throughput plot
        plot.SavePng(path, 1200, 550);
        return path;
    }

    private static string ThroughputByPairs(List<JsonElement> runs, string path)
    {
        var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20(); // a series per session; ten colours repeat
        foreach (var series in runs.GroupBy(Series))
        {
            // The mean of the runs at each pair count.
            var points = series.GroupBy(r => Number(r, "pairs") ?? 0)
                .Select(g => (Pairs: g.Key, Rate: g.Average(r => Number(r, "delivered_msgs_per_s") ?? 0)))
                .OrderBy(p => p.Pairs)
                .ToList();
            var line = plot.Add.Scatter(points.Select(p => p.Pairs).ToArray(), points.Select(p => p.Rate).ToArray());
            line.LegendText = series.Key;
            line.MarkerSize = 8;
        }

        // Mosquitto as measured beside the latest series that measured it: its rate moves with the
        // machine as much as Parley's does (5,596 to 29,926 msgs/s here), so a mean over sessions says little.
        if (runs.LastOrDefault(r => Number(r, "anchor_mosquitto_qos1_msgs_per_s") is not null) is { ValueKind: JsonValueKind.Object } latest)
        {
            var beside = Series(latest);
            var anchors = runs.Where(r => Series(r) == beside).Select(r => Number(r, "anchor_mosquitto_qos1_msgs_per_s")).OfType<double>().ToList();
            var mosquitto = plot.Add.HorizontalLine(anchors.Average());
            mosquitto.LegendText = $"Mosquitto QoS 1 persistent, beside {beside}";
            mosquitto.LinePattern = LinePattern.Dashed;
        }

        plot.Axes.Bottom.Label.Text = "sender→receiver pairs";
        plot.Axes.Left.Label.Text = "delivered msgs/s (decrypted)";
        plot.Axes.SetLimitsY(0, double.NaN);
        plot.Title("Parley relay throughput, 256-byte messages (2 shared cores, loopback, durable; mean of runs)");
        plot.ShowLegend(Edge.Right); // beside the data: with a series per session it would cover it
        // Tall enough for one legend column: a series per session and storage, 24 by session 11.
        plot.SavePng(path, 1400, 720);
        return path;
    }

    private static string Series(JsonElement run) =>
        Text(run, "label") is { Length: > 0 } label ? $"{Text(run, "storage")} ({label})" : Text(run, "storage") ?? "?";

    private static string? Text(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
