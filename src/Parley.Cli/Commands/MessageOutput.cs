using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parley.Client;
using Parley.Client.Profile;

namespace Parley.Cli.Commands;

/// <summary>How messages are printed: one readable line each, or one JSON object per line.</summary>
internal static class MessageOutput
{
    internal static void Write(ReceivedMessage message, bool json)
    {
        if (json)
        {
            WriteJson(
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
        var from = entry.Outgoing ? self : entry.Peer;
        if (json)
        {
            WriteJson(
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
        _ => "undecryptable",
    };

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
                    default:
                        json.WriteString(name, (string)value);
                        break;
                }
            }

            json.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Line(DateTimeOffset time, string from, string? text, MessageStatus status, bool verified)
    {
        var stamp = time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
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
