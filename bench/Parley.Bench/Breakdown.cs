using System.Globalization;
using System.Security.Cryptography;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Bench;

/// <summary>
/// `breakdown`: where the time of a one-way message and of a setup goes, one public step at a
/// time (CPU time of this thread per call, median of five rounds, so a busy machine matters less).
/// </summary>
internal static class Breakdown
{
    private const int Rounds = 5;

    internal static void Run(double seconds)
    {
        var perRound = seconds / Rounds;
        Messages(perRound);
        Setups(perRound);
    }

    private static void Messages(double perRound)
    {
        var pair = new ProtocolWorkload();
        pair.Setup();
        pair.Send(fromAlice: false);
        pair.Send(fromAlice: true);
        var (aliceState, bobState) = pair.States;
        var message = RandomNumberGenerator.GetBytes(ProtocolWorkload.MessageBytes);
        using var alice = RatchetSession.Deserialize(aliceState);
        var wire = alice.Encrypt(message);
        Console.WriteLine($"## one-way message: session state {aliceState.Length} / {bobState.Length} bytes, message {wire.Length} bytes");
        Step("RatchetSession.Deserialize (sender)", perRound, () => RatchetSession.Deserialize(aliceState).Dispose());
        Step("  of which SessionStateFormat.Read", perRound, () => Parley.Protocol.Session.SessionStateFormat.Read(aliceState).State.Dispose());
        Step("RatchetSession.Encrypt", perRound, () => alice.Encrypt(message));
        Step("RatchetSession.Serialize (sender)", perRound, () => alice.Serialize());
        Step("RatchetSession.ParseMessage", perRound, () => RatchetSession.ParseMessage(wire));
        Step("Deserialize + Decrypt (bytes), receiver", perRound, () =>
        {
            using var receiver = RatchetSession.Deserialize(bobState);
            receiver.Decrypt(wire);
        });
        Step("whole one-way message (as measured)", perRound, () => pair.Send(fromAlice: true));
        Console.WriteLine();
    }

    private static void Setups(double perRound)
    {
        var now = DateTimeOffset.UnixEpoch;
        var message = RandomNumberGenerator.GetBytes(ProtocolWorkload.MessageBytes);
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        Console.WriteLine("## PQXDH setup");
        Step("IdentityKeyPair.Generate (x2 per setup)", perRound, () => IdentityKeyPair.Generate().Dispose());
        Step("SignedPreKeyRecord.Generate", perRound, () => SignedPreKeyRecord.Generate(bob, 1, now));
        Step("OneTimePreKeyRecord.Generate", perRound, () => OneTimePreKeyRecord.Generate(1));
        Step("KemPreKeyRecord.Generate", perRound, () => KemPreKeyRecord.Generate(bob, 1, false, now));
        var signed = SignedPreKeyRecord.Generate(bob, 1, now);
        var oneTime = OneTimePreKeyRecord.Generate(1);
        var kem = KemPreKeyRecord.Generate(bob, 1, lastResort: true, now);
        var store = new InMemoryPreKeyStore();
        store.Add(signed);
        store.Add(kem);
        var bundle = new PreKeyBundle
        {
            Version = ProtocolVersion.Current,
            Identity = bob.PublicKey.ToWire(),
            SignedPreKey = signed.ToWire(),
            KemPreKey = kem.ToWire(),
        };
        Step("RatchetSession.Initiate (no one-time prekey)", perRound, () => RatchetSession.Initiate(alice, bundle).Dispose());
        using var initiator = RatchetSession.Initiate(alice, bundle);
        Step("first Encrypt (PreKeyMessage)", perRound, () => initiator.Encrypt(message));
        using var fresh = RatchetSession.Initiate(alice, bundle);
        var first = RatchetSession.ParseMessage(fresh.Encrypt(message));
        Step("RatchetSession.Accept (no one-time prekey)", perRound, () => RatchetSession.Accept(bob, first.PreKey, store, out _).Dispose());
        Step("whole setup (as measured)", perRound, () => new ProtocolWorkload().Setup());
        _ = oneTime;
    }

    private static void Step(string name, double seconds, Action step)
    {
        step();
        var cpu = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            var count = 0L;
            var start = ThreadClock.Now();
            TimedLoop.Run(seconds, _ =>
            {
                step();
                count++;
            });
            cpu.Add((ThreadClock.Now() - start) / count * 1e6);
        }

        cpu.Sort();
        const int Samples = 200;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Samples; i++)
        {
            step();
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / Samples;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-48} {cpu[Rounds / 2],10:F2} us cpu {allocated,8:N0} B allocated"));
    }
}
