using System.Globalization;
using System.Security.Cryptography;
using Parley.Protocol.Session;

namespace Parley.Bench;

/// <summary>`breakdown`: where a one-way message's time goes, one step at a time.</summary>
internal static class Breakdown
{
    internal static void Run(double seconds)
    {
        var pair = new ProtocolWorkload();
        pair.Setup();
        pair.Send(fromAlice: false);
        for (var i = 0; i < 1000; i++)
        {
            pair.Send(fromAlice: true);
        }

        var (aliceState, bobState) = pair.States;
        var message = RandomNumberGenerator.GetBytes(ProtocolWorkload.MessageBytes);
        using var alice = RatchetSession.Deserialize(aliceState);
        using var bob = RatchetSession.Deserialize(bobState);
        var wire = alice.Encrypt(message);
        void Bench(string name, Action<long> op)
        {
            var perSecond = TimedLoop.WarmThenRun(seconds / 4, seconds, op);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-40} {perSecond,12:N0} /s {1e6 / perSecond,9:F3} us"));
        }

        Console.WriteLine($"session state {aliceState.Length} / {bobState.Length} bytes, message {wire.Length} bytes");
        Bench("Deserialize (sender state)", _ => RatchetSession.Deserialize(aliceState).Dispose());
        Bench("Serialize (sender state)", _ => alice.Serialize());
        Bench("Encrypt", _ => alice.Encrypt(message));
        Bench("ParseMessage", _ => RatchetSession.ParseMessage(wire));
        Bench("Deserialize+Decrypt (fresh receiver)", _ =>
        {
            using var receiver = RatchetSession.Deserialize(bobState);
            receiver.Decrypt(wire);
        });
        Bench("full one-way message", _ => pair.Send(fromAlice: true));
    }
}
