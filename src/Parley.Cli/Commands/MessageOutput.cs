using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parley.Client;
using Parley.Client.Profile;

namespace Parley.Cli.Commands;

/// <summary>
/// How messages are printed: one readable line each, or one JSON object per line. A gap — messages
/// the peer sent that the server did not deliver — is a line (kind "gap" in JSON) of its own, just
/// before the message that revealed it.
/// </summary>
internal static class MessageOutput
{
    internal static void Write(ReceivedMessage message, bool json)
    {
        if (message.MissingBefore > 0)
        {
            WriteGap(message.Sender, to: null, message.ServerTime, message.MissingBefore, json);
        }

        if (json)
        {
            WriteJson(
                ("kind", "message"),
                ("from", message.Sender),
                ("time", message.ServerTime.ToString("O", CultureInfo.InvariantCulture)),
                ("status", StatusName(message.Status)),
                ("verified", message.SenderVerified),
                ("text", message.Text));
            return;
        }

        Console.WriteLine(Line(message.ServerTime, message.Sender, message.Text, message.Status, message.SenderVerified));
    }

    internal static void Write(HistoryEntry entry, string self, bool json)
    {
        if (entry.IsGap)
        {
            WriteGap(entry.Peer, self, entry.Time, entry.MissingCount, json);
            return;
        }

        var from = entry.Outgoing ? self : entry.Peer;
        if (json)
        {
            WriteJson(
                ("kind", "message"),
                ("from", from),
                ("to", entry.Outgoing ? entry.Peer : self),
                ("time", entry.Time.ToString("O", CultureInfo.InvariantCulture)),
                ("status", entry.Outgoing ? (entry.Sent ? "sent" : "pending") : StatusName(entry.Status)),
                ("text", entry.Text));
            return;
        }

        var line = Line(entry.Time, from, entry.Text, entry.Status, verified: false);
        Console.WriteLine(entry.Outgoing && !entry.Sent ? line + "  (not sent yet)" : line);
    }

    internal static string StatusName(MessageStatus status) => status switch
    {
        MessageStatus.Delivered => "ok",
        MessageStatus.Tampered => "tampered",
        MessageStatus.Replayed => "replayed",
        MessageStatus.UntrustedIdentity => "untrusted",
        MessageStatus.Missing => "missing",
        _ => "undecryptable",
    };

    /// <summary>The words for a gap, e.g. "1 message from alice is missing (sent before the next one; the server did not deliver it)".</summary>
    internal static string GapText(string from, long count) => count == 1
        ? $"1 message from {from} is missing (sent before the next one; the server did not deliver it)"
        : $"{count.ToString(CultureInfo.InvariantCulture)} messages from {from} are missing (sent before the next one; the server did not deliver them)";

    private static void WriteGap(string from, string? to, DateTimeOffset time, long count, bool json)
    {
        if (json)
        {
            WriteJson(
                ("kind", "gap"),
                ("from", from),
                ("to", to),
                ("time", time.ToString("O", CultureInfo.InvariantCulture)),
                ("status", StatusName(MessageStatus.Missing)),
                ("missing", count),
                ("text", null));
            return;
        }

        Console.WriteLine($"[{Stamp(time)}] ! {GapText(from, count)}");
    }

    // Written field by field rather than serialised by reflection, so `parley` can be published with Native AOT.
    private static void WriteJson(params ReadOnlySpan<(string Name, object? Value)> fields)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                switch (value)
                {
                    case null:
                        json.WriteNull(name);
                        break;
                    case bool flag:
                        json.WriteBoolean(name, flag);
                        break;
                    case long number:
                        json.WriteNumber(name, number);
                        break;
                    default:
                        json.WriteString(name, (string)value);
                        break;
                }
            }

            json.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Stamp(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Line(DateTimeOffset time, string from, string? text, MessageStatus status, bool verified)
    {
        var stamp = Stamp(time);
        return status switch
        {
            MessageStatus.Delivered => $"[{stamp}] {from}{(verified ? " (verified)" : string.Empty)}: {text}",
            MessageStatus.Tampered => $"[{stamp}] {from}: !! a message failed authentication (tampered) and was discarded",
            MessageStatus.Replayed => $"[{stamp}] {from}: !! a replayed message was discarded",
            MessageStatus.UntrustedIdentity => $"[{stamp}] {from}: !! a message from an untrusted or changed identity was not shown",
            _ => $"[{stamp}] {from}: !! a message could not be decrypted",
        };
    }
}
