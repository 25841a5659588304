using System.Globalization;

namespace Parley.Server.Cluster;

/// <summary>
/// One event on the cluster channel, as text: <c>kind|origin|user|number</c>. The user name is the
/// only thing it says about a user; never a message, a body or a key. Names and node ids cannot
/// contain '|' (both are validated where they enter).
/// </summary>
internal readonly record struct ClusterEvent(string Kind, string Origin, string User, long Generation)
{
    internal const string WakeUpKind = "wake";
    internal const string TakeOverKind = "takeover";
    internal const string RevokeKind = "revoke";
    internal const string Ping = "ping";

    internal static string WakeUp(string origin, string user) => Format(WakeUpKind, origin, user, 0);

    internal static string TakeOver(string origin, string user, long generation) => Format(TakeOverKind, origin, user, generation);

    internal static string Revoke(string origin, string user) => Format(RevokeKind, origin, user, 0);

    internal static string Pinging(string origin, long sequence) => Format(Ping, origin, string.Empty, sequence);

    internal static bool TryParse(string? text, out ClusterEvent parsed)
    {
        parsed = default;
        var parts = text?.Split('|');
        if (parts is not { Length: 4 }
            || parts[0] is not (WakeUpKind or TakeOverKind or RevokeKind or Ping)
            || parts[1].Length == 0
            || (parts[2].Length == 0 && parts[0] != Ping)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        parsed = new ClusterEvent(parts[0], parts[1], parts[2], number);
        return true;
    }

    private static string Format(string kind, string origin, string user, long number) =>
        string.Create(CultureInfo.InvariantCulture, $"{kind}|{origin}|{user}|{number}");
}
