using System.Security.Cryptography;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Bench;

/// <summary>
/// What shared/anchors/libsignal-bench.mjs does, done with Parley: a PQXDH setup from two fresh
/// identities and a fresh bundle, then 256-byte messages. As in the anchor, a session lives only
/// as bytes between messages: each side restores it, uses it once and serializes it again,
/// because a real client persists it after every message.
/// </summary>
internal sealed class ProtocolWorkload
{
    internal const int MessageBytes = 256;

    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch.AddYears(56);

    private readonly byte[] message = RandomNumberGenerator.GetBytes(MessageBytes);
    private byte[] aliceState = [];
    private byte[] bobState = [];

    /// <summary>
    /// One setup: two identities, the responder's prekeys and bundle, the initiator processes the
    /// bundle and sends a first message, the responder accepts it; every session saved as bytes.
    /// Leaves the pair ready for <see cref="Send"/>.
    /// </summary>
    internal void Setup()
    {
        using var alice = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();

        // The responder's prekeys and the bundle the directory would hand out (the anchor's bundle()).
        var preKeys = new InMemoryPreKeyStore();
        var signed = SignedPreKeyRecord.Generate(bob, 1, Now);
        var oneTime = OneTimePreKeyRecord.Generate(1);
        var kem = KemPreKeyRecord.Generate(bob, 1, lastResort: false, Now);
        preKeys.Add(signed);
        preKeys.Add(oneTime);
        preKeys.Add(kem);
        var bundle = new PreKeyBundle
        {
            Version = ProtocolVersion.Current,
            Identity = bob.PublicKey.ToWire(),
            SignedPreKey = signed.ToWire(),
            KemPreKey = kem.ToWire(),
            OneTimePreKey = oneTime.ToWire(),
        };

        // processPreKeyBundle: the initiator's new session is stored.
        using (var session = RatchetSession.Initiate(alice, bundle))
        {
            aliceState = session.Serialize();
        }

        // The first message: encrypt on a restored session, then the responder accepts it.
        byte[] wire;
        using (var session = RatchetSession.Deserialize(aliceState))
        {
            wire = session.Encrypt(message);
            aliceState = session.Serialize();
        }

        var parsed = RatchetSession.ParseMessage(wire);
        using (var session = RatchetSession.Accept(bob, parsed.PreKey, preKeys, out var plaintext))
        {
            Check(plaintext);
            bobState = session.Serialize();
        }
    }

    /// <summary>The two sides' saved sessions (Alice's, Bob's).</summary>
    internal (byte[] Alice, byte[] Bob) States => (aliceState, bobState);

    /// <summary>One message from Alice to Bob (<paramref name="fromAlice"/>) or back.</summary>
    internal void Send(bool fromAlice)
    {
        if (fromAlice)
        {
            bobState = Transfer(ref aliceState, bobState);
        }
        else
        {
            aliceState = Transfer(ref bobState, aliceState);
        }
    }

    /// <summary>Restore the sender, encrypt, save; restore the receiver, decrypt, save. Returns the receiver's new state.</summary>
    private byte[] Transfer(ref byte[] senderState, byte[] receiverState)
    {
        byte[] wire;
        using (var sender = RatchetSession.Deserialize(senderState))
        {
            wire = sender.Encrypt(message);
            senderState = sender.Serialize();
        }

        using var receiver = RatchetSession.Deserialize(receiverState);
        Check(receiver.Decrypt(wire));
        return receiver.Serialize();
    }

    private void Check(byte[] plaintext)
    {
        if (!plaintext.AsSpan().SequenceEqual(message))
        {
            throw new InvalidOperationException("decrypted message differs from the one sent");
        }
    }
}
