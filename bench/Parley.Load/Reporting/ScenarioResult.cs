using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace Parley.Load.Reporting;

/// <summary>The figures of one scenario run, printed as a table and as one JSON line.</summary>
internal sealed class ScenarioResult(string scenario, string storage)
{
    private readonly List<(string Key, object Value, string Label)> figures = [];

    internal string Scenario { get; } = scenario;

    internal IReadOnlyList<(string Key, object Value, string Label)> Figures => figures;

    internal ScenarioResult Add(string key, object value, string label)
    {
        figures.Add((key, value, label));
        return this;
    }

    internal double? Get(string key) => figures.FirstOrDefault(f => f.Key == key).Value is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;

    internal string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("scenario", Scenario);
            json.WriteString("storage", storage);
            json.WriteString("utc", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            foreach (var (key, value, _) in figures)
            {
                switch (value)
                {
                    case string s:
                        json.WriteString(key, s);
                        break;
                    case bool b:
                        json.WriteBoolean(key, b);
                        break;
                    case double d:
                        json.WriteNumber(key, Math.Round(d, 4));
                        break;
                    default:
                        json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                        break;
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal void Print(LoadSettings settings)
    {
        if (!settings.Quiet)
        {
            var table = new Table().Title($"{Scenario} ({storage})").AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
            foreach (var (_, value, label) in figures)
            {
                table.AddRow(Markup.Escape(label), Markup.Escape(Format(value)));
            }

            AnsiConsole.Write(table);
        }

        var line = ToJson();
        Console.Out.WriteLine(line);
        Console.Out.Flush();
        if (settings.ResultsFile is { } file)
        {
            File.AppendAllText(file, line + "\n");
        }
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString(d >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture),
        long or int => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString("N0", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
