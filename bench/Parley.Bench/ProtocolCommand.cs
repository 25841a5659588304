using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Parley.Protocol.Primitives;

namespace Parley.Bench;

/// <summary>
/// `protocol [--seconds N] [--json] [--no-anchor]`: Parley's setups, one-way and ping-pong
/// messages beside the libsignal anchor and the primitive ceiling, all from this one run.
/// </summary>
internal static class ProtocolCommand
{
    /// <summary>The issue's targets: Parley / anchor, and one-way / ceiling.</summary>
    internal const double SetupsTarget = 2;
    internal const double OneWayTarget = 20;
    internal const double PingPongTarget = 2;
    internal const double OneWayCeilingTarget = 0.5;

    /// <summary>
    /// Each figure's time is split into this many rounds, taken in turn with the other figures;
    /// half of them run before the anchor and half after, so that Parley's figures, the ceiling's
    /// and the anchor's see the same machine even when other work comes and goes on it.
    /// </summary>
    private const int Rounds = 4;

    internal static int Run(double seconds, bool json, bool anchor)
    {
        Console.Error.WriteLine($"# {seconds} s per figure: Parley and the ceiling in {Rounds} interleaved rounds, half before and half after the anchor");
        var ceiling = new PrimitiveCeiling();
        var loops = new (string Name, Action<long> Operation)[]
        {
            ("ceiling one-way", ceiling.OneWay),
            ("one-way", ProtocolFigures.OneWay()),
            ("ceiling ping-pong", ceiling.PingPong),
            ("ping-pong", ProtocolFigures.PingPong()),
            ("setups", ProtocolFigures.Setups()),
        };

        // Warm up: at least a second each, by which time tiered compilation (with dynamic PGO)
        // has settled on its final code.
        var warmup = Math.Clamp(seconds / 3, 1.0, 2.0);
        foreach (var (_, operation) in loops)
        {
            TimedLoop.Run(warmup, operation);
        }

        var rates = new double[loops.Length];
        void MeasureRounds(int count)
        {
            for (var round = 0; round < count; round++)
            {
                for (var i = 0; i < loops.Length; i++)
                {
                    rates[i] += TimedLoop.Run(seconds / Rounds, loops[i].Operation) / Rounds;
                }
            }
        }

        MeasureRounds(Rounds / 2);
        string? note = "anchor skipped (--no-anchor)";
        var libsignal = anchor ? LibsignalAnchor.Run(seconds, out note) : null;
        MeasureRounds(Rounds - (Rounds / 2));

        double Rate(string name) => rates[Array.FindIndex(loops, loop => loop.Name == name)];
        var parley = new ProtocolFigures(Rate("setups"), Rate("one-way"), Rate("ping-pong"));
        var limits = new CeilingFigures(Rate("ceiling one-way"), Rate("ceiling ping-pong"), ceiling.MeasureParts(Math.Min(seconds, 2)));

        PrintTable(seconds, parley, libsignal, limits, note);
        if (json)
        {
            Console.WriteLine(Json(seconds, parley, libsignal, limits, note));
        }

        return 0;
    }

    private static double? Ratio(double value, double? reference) =>
        reference is { } r && r > 0 ? Math.Round(value / r, 2) : null;

    private static void PrintTable(double seconds, ProtocolFigures parley, AnchorFigures? anchor, CeilingFigures ceiling, string? note)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Parley protocol benchmark: {ProtocolWorkload.MessageBytes}-byte messages, one thread, {seconds} s per figure, session state saved after every message");
        text.AppendLine(c, $"  {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores");
        text.AppendLine(c, $"  X25519: {X25519.Implementation}; HMAC: {Hmac.Implementation}; HKDF: {Hkdf.Implementation}; AEAD: {Aead.Implementation}");
        text.AppendLine(c, $"  Ed25519: {Ed25519.Implementation}; ML-KEM-768: {MlKem768.Implementation}");
        text.AppendLine();
        text.AppendLine(c, $"  {"figure",-22} {"Parley",12} {"libsignal",12} {"ratio",8} {"target",8} {"ceiling",12} {"of ceiling",10}");
        Row(text, "PQXDH setups/s", parley.SetupsPerSecond, anchor?.SetupsPerSecond, SetupsTarget, null);
        Row(text, "one-way msgs/s", parley.OneWayPerSecond, anchor?.OneWayPerSecond, OneWayTarget, ceiling.OneWayPerSecond);
        Row(text, "ping-pong msgs/s", parley.PingPongPerSecond, anchor?.PingPongPerSecond, PingPongTarget, ceiling.PingPongPerSecond);
        text.AppendLine();
        text.AppendLine(c, $"  ceiling parts (us): AES-256-GCM seal+open {ceiling.Parts.AeadPair:F3}, HMAC {ceiling.Parts.Hmac:F3}, HKDF-64 {ceiling.Parts.Hkdf:F3}, X25519 keygen {ceiling.Parts.KeyGeneration:F2}, agreement {ceiling.Parts.Agreement:F2}");
        text.AppendLine(anchor is null ? $"  {note}" : $"  anchor: {anchor.Name}, run by node in this process's run (ratios are Parley / anchor)");
        Console.Write(text.ToString());
    }

    private static void Row(StringBuilder text, string name, double value, double? anchor, double target, double? ceiling)
    {
        var ratio = Ratio(value, anchor);
        var met = ratio is null ? "" : ratio >= target ? " ok" : " MISS";
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  {name,-22} {value,12:N0} {(anchor is { } a ? a.ToString("N0", CultureInfo.InvariantCulture) : "-"),12} {(ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-"),8} {target.ToString("0.#", CultureInfo.InvariantCulture) + "x" + met,8} " +
            $"{(ceiling is { } m ? m.ToString("N0", CultureInfo.InvariantCulture) : "-"),12} {(ceiling is { } n ? (value / n).ToString("P0", CultureInfo.InvariantCulture) : "-"),10}");
    }

    private static string Json(double seconds, ProtocolFigures parley, AnchorFigures? anchor, CeilingFigures ceiling, string? note)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("bench", "protocol");
            w.WriteNumber("message_bytes", ProtocolWorkload.MessageBytes);
            w.WriteNumber("seconds", seconds);
            w.WriteNumber("pqxdh_setups_per_s", Math.Round(parley.SetupsPerSecond));
            w.WriteNumber("one_way_msgs_per_s", Math.Round(parley.OneWayPerSecond));
            w.WriteNumber("ping_pong_msgs_per_s", Math.Round(parley.PingPongPerSecond));
            if (anchor is null)
            {
                w.WriteNull("anchor");
                w.WriteNull("anchor_setups_per_s");
                w.WriteNull("anchor_one_way_msgs_per_s");
                w.WriteNull("anchor_ping_pong_msgs_per_s");
                w.WriteString("anchor_note", note);
            }
            else
            {
                w.WriteString("anchor", anchor.Name);
                w.WriteNumber("anchor_setups_per_s", anchor.SetupsPerSecond);
                w.WriteNumber("anchor_one_way_msgs_per_s", anchor.OneWayPerSecond);
                w.WriteNumber("anchor_ping_pong_msgs_per_s", anchor.PingPongPerSecond);
            }

            WriteNullable(w, "setups_vs_anchor", Ratio(parley.SetupsPerSecond, anchor?.SetupsPerSecond));
            WriteNullable(w, "one_way_vs_anchor", Ratio(parley.OneWayPerSecond, anchor?.OneWayPerSecond));
            WriteNullable(w, "ping_pong_vs_anchor", Ratio(parley.PingPongPerSecond, anchor?.PingPongPerSecond));
            w.WriteNumber("ceiling_one_way_msgs_per_s", Math.Round(ceiling.OneWayPerSecond));
            w.WriteNumber("ceiling_ping_pong_msgs_per_s", Math.Round(ceiling.PingPongPerSecond));
            WriteNullable(w, "one_way_vs_ceiling", Ratio(parley.OneWayPerSecond, ceiling.OneWayPerSecond));
            WriteNullable(w, "ping_pong_vs_ceiling", Ratio(parley.PingPongPerSecond, ceiling.PingPongPerSecond));
            w.WriteNumber("ceiling_aead_pair_us", Math.Round(ceiling.Parts.AeadPair, 3));
            w.WriteNumber("ceiling_hmac_us", Math.Round(ceiling.Parts.Hmac, 3));
            w.WriteNumber("ceiling_hkdf_us", Math.Round(ceiling.Parts.Hkdf, 3));
            w.WriteNumber("ceiling_x25519_keygen_us", Math.Round(ceiling.Parts.KeyGeneration, 2));
            w.WriteNumber("ceiling_x25519_agree_us", Math.Round(ceiling.Parts.Agreement, 2));
            w.WriteStartObject("targets_met");
            WriteMet(w, "setups_2x_anchor", Ratio(parley.SetupsPerSecond, anchor?.SetupsPerSecond), SetupsTarget);
            WriteMet(w, "one_way_20x_anchor", Ratio(parley.OneWayPerSecond, anchor?.OneWayPerSecond), OneWayTarget);
            WriteMet(w, "ping_pong_2x_anchor", Ratio(parley.PingPongPerSecond, anchor?.PingPongPerSecond), PingPongTarget);
            WriteMet(w, "one_way_half_ceiling", parley.OneWayPerSecond / ceiling.OneWayPerSecond, OneWayCeilingTarget);
            w.WriteEndObject();
            w.WriteString("x25519", X25519.Implementation);
            w.WriteString("hmac", Hmac.Implementation);
            w.WriteString("hkdf", Hkdf.Implementation);
            w.WriteString("aead", Aead.Implementation);
            w.WriteString("ed25519", Ed25519.Implementation);
            w.WriteString("ml_kem", MlKem768.Implementation);
            w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
            w.WriteNumber("cores", Environment.ProcessorCount);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteMet(Utf8JsonWriter w, string name, double? ratio, double target)
    {
        if (ratio is { } r)
        {
            w.WriteBoolean(name, r >= target);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}

/// <summary>The ceiling's two rates (messages per second) and its parts.</summary>
internal sealed record CeilingFigures(double OneWayPerSecond, double PingPongPerSecond, CeilingParts Parts);
