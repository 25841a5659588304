namespace Parley.Bench;

/// <summary>Parley's three figures, measured the anchor's way (one thread, timed loops).</summary>
internal sealed record ProtocolFigures(double SetupsPerSecond, double OneWayPerSecond, double PingPongPerSecond)
{
    /// <summary>Each iteration: a whole setup from nothing (the anchor's session_setups_per_s).</summary>
    internal static Action<long> Setups()
    {
        var workload = new ProtocolWorkload();
        return _ => workload.Setup();
    }

    /// <summary>Each iteration: one message from Alice to Bob on an established pair.</summary>
    internal static Action<long> OneWay()
    {
        // As the anchor's pair: set up, then one message each way.
        var pair = new ProtocolWorkload();
        pair.Setup();
        pair.Send(fromAlice: false);
        return _ => pair.Send(fromAlice: true);
    }

    /// <summary>Each iteration: one message, strictly alternating, so every message turns the DH ratchet.</summary>
    internal static Action<long> PingPong()
    {
        var pair = new ProtocolWorkload();
        pair.Setup();
        var fromAlice = false;
        return _ =>
        {
            fromAlice = !fromAlice;
            pair.Send(fromAlice);
        };
    }
}
