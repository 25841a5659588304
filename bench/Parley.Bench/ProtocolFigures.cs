namespace Parley.Bench;

/// <summary>Parley's three figures, measured the anchor's way (one thread, timed loops).</summary>
internal sealed record ProtocolFigures(double SetupsPerSecond, double OneWayPerSecond, double PingPongPerSecond)
{
    internal static ProtocolFigures Measure(double seconds)
    {
        // At least a second: tiered compilation (with dynamic PGO) settles on its final code by then.
        var warmup = Math.Clamp(seconds / 3, 1.0, 2.0);

        // Setups: each iteration starts from nothing.
        var setup = new ProtocolWorkload();
        var setups = TimedLoop.WarmThenRun(warmup, seconds, _ => setup.Setup());

        // Messages: one established pair, as the anchor's (set up, then one message each way).
        var pair = new ProtocolWorkload();
        pair.Setup();
        pair.Send(fromAlice: false);
        var oneWay = TimedLoop.WarmThenRun(warmup, seconds, _ => pair.Send(fromAlice: true));

        // Ping-pong: strictly alternating, so every message turns the DH ratchet.
        var fromAlice = false;
        var pingPong = TimedLoop.WarmThenRun(warmup, seconds, _ =>
        {
            fromAlice = !fromAlice;
            pair.Send(fromAlice);
        });
        return new ProtocolFigures(setups, oneWay, pingPong);
    }
}
