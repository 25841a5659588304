using System.Text.Json.Nodes;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Session;
using static Parley.Protocol.Tests.Vectors.ProtocolVectorSpec;
using SessionState = Parley.Protocol.Internal.Stored.SessionState;

namespace Parley.Protocol.Tests.Vectors;

/// <summary>
/// One party's Double Ratchet exactly as docs/protocol.md §6 states it (Signal's Double Ratchet
/// §3 with Parley's KDFs and AEAD), computed with the primitives. The vector generator runs it
/// beside the real <see cref="RatchetSession"/>, records every value it computes, and checks the
/// session's serialized state against it after each step.
/// </summary>
internal sealed class ProtocolVectorRatchet
{
    private readonly byte[] associatedDataPrefix;
    private readonly List<(byte[] RatchetKey, uint Counter, byte[] MessageKey)> skipped = [];
    private readonly List<(byte[] RatchetKey, uint NextCounter)> retired = [];
    private byte[] rootKey;
    private byte[] sendingPrivate;
    private byte[] sendingPublic;
    private byte[]? receivingPublic;
    private byte[]? sendingChainKey;
    private byte[]? receivingChainKey;
    private uint sendingCounter;
    private uint receivingCounter;
    private uint previousSendingCounter;

    private ProtocolVectorRatchet(byte[] associatedDataPrefix, byte[] rootKey, byte[] sendingPrivate, byte[]? receivingPublic, byte[]? sendingChainKey)
    {
        this.associatedDataPrefix = associatedDataPrefix;
        this.rootKey = rootKey;
        this.sendingPrivate = sendingPrivate;
        sendingPublic = X25519Public(sendingPrivate);
        this.receivingPublic = receivingPublic;
        this.sendingChainKey = sendingChainKey;
    }

    /// <summary>RatchetInitAlice: DHs = a fresh pair, DHr = SPK_B, (RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B)).</summary>
    internal static ProtocolVectorRatchet Initiator(byte[] associatedDataPrefix, byte[] sharedSecret, byte[] responderSignedPreKey, byte[] ratchetPrivate, out JsonObject record)
    {
        var dh = Dh(ratchetPrivate, responderSignedPreKey);
        var (root, chain) = KdfRk(sharedSecret, dh);
        record = Obj(
            ("ratchet_private", ratchetPrivate),
            ("ratchet_public", X25519Public(ratchetPrivate)),
            ("remote_ratchet_public", responderSignedPreKey),
            ("dh", dh),
            ("root_key", sharedSecret),
            ("next_root_key", root),
            ("sending_chain_key", chain));
        return new ProtocolVectorRatchet(associatedDataPrefix, root, ratchetPrivate, responderSignedPreKey, chain);
    }

    /// <summary>RatchetInitBob: DHs = the signed prekey pair, RK = SK, no chains yet.</summary>
    internal static ProtocolVectorRatchet Responder(byte[] associatedDataPrefix, byte[] sharedSecret, byte[] signedPreKeyPrivate, out JsonObject record)
    {
        record = Obj(
            ("ratchet_private", signedPreKeyPrivate),
            ("ratchet_public", X25519Public(signedPreKeyPrivate)),
            ("root_key", sharedSecret));
        return new ProtocolVectorRatchet(associatedDataPrefix, sharedSecret, signedPreKeyPrivate, null, null);
    }

    /// <summary>RatchetEncrypt: fills <paramref name="record"/> and returns the header and ciphertext.</summary>
    internal (byte[] Header, byte[] Ciphertext) Encrypt(byte[] plaintext, JsonObject record)
    {
        var chainKey = sendingChainKey ?? throw new InvalidOperationException("no sending chain");
        var header = Header(sendingPublic, previousSendingCounter, sendingCounter);
        var (messageKey, nextChainKey) = KdfCk(chainKey);
        var associatedData = Concat(associatedDataPrefix, header);
        var ciphertext = Seal(messageKey, associatedData, plaintext);
        record["header"] = HeaderJson(header);
        record["sending_chain"] = Obj(("chain_key", chainKey), ("message_key", messageKey), ("next_chain_key", nextChainKey));
        record["associated_data"] = Hex(associatedData);
        record["ciphertext"] = Hex(ciphertext);
        sendingChainKey = nextChainKey;
        sendingCounter++;
        return (header, ciphertext);
    }

    /// <summary>
    /// RatchetDecrypt, with Parley's classification of failures (docs/protocol.md §6.4). On
    /// success the state moves on; on failure nothing changes. <paramref name="newRatchetPrivate"/>
    /// is the key pair the library drew if this message needed a DH ratchet step.
    /// </summary>
    internal ProtocolVectorOutcome Decrypt(byte[] header, byte[] ciphertext, Func<byte[]> newRatchetPrivate, JsonObject record)
    {
        var ratchetKey = header[..32];
        var previousCounter = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(32));
        var counter = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(36));
        var associatedData = Concat(associatedDataPrefix, header);
        record["header"] = HeaderJson(header);
        record["associated_data"] = Hex(associatedData);

        var skippedIndex = skipped.FindIndex(k => k.Counter == counter && k.RatchetKey.AsSpan().SequenceEqual(ratchetKey));
        if (skippedIndex >= 0)
        {
            record["path"] = "skipped_key";
            record["message_key"] = Hex(skipped[skippedIndex].MessageKey);
            var plaintext = Open(skipped[skippedIndex].MessageKey, associatedData, ciphertext);
            if (plaintext is null)
            {
                return ProtocolVectorOutcome.Failed(ProtocolErrorKind.Tampered);
            }

            skipped.RemoveAt(skippedIndex);
            return ProtocolVectorOutcome.Decrypted(plaintext);
        }

        if (receivingChainKey is not null && ratchetKey.AsSpan().SequenceEqual(receivingPublic))
        {
            record["path"] = "receiving_chain";
            if (counter < receivingCounter)
            {
                return ProtocolVectorOutcome.Failed(ProtocolErrorKind.Replayed);
            }

            if (counter - receivingCounter > RatchetLimits.MaxSkip)
            {
                return ProtocolVectorOutcome.Failed(ProtocolErrorKind.TooFarAhead);
            }

            var (_, newSkipped, messageKey, nextChainKey) = Receive(receivingChainKey, ratchetKey, receivingCounter, counter, record);
            var plaintext = Open(messageKey, associatedData, ciphertext);
            if (plaintext is null)
            {
                return ProtocolVectorOutcome.Failed(ProtocolErrorKind.Tampered);
            }

            receivingChainKey = nextChainKey;
            receivingCounter = counter + 1;
            AddSkipped(newSkipped);
            return ProtocolVectorOutcome.Decrypted(plaintext);
        }

        var retiredIndex = retired.FindIndex(r => r.RatchetKey.AsSpan().SequenceEqual(ratchetKey));
        if (retiredIndex >= 0)
        {
            record["path"] = "retired_chain";
            record["retired_next_counter"] = retired[retiredIndex].NextCounter;
            return ProtocolVectorOutcome.Failed(counter < retired[retiredIndex].NextCounter ? ProtocolErrorKind.Replayed : ProtocolErrorKind.Tampered);
        }

        record["path"] = "dh_ratchet";
        var hasOldChain = receivingChainKey is not null;
        var oldChainEnd = hasOldChain ? Math.Max(previousCounter, receivingCounter) : 0;
        if ((hasOldChain && oldChainEnd - receivingCounter > RatchetLimits.MaxSkip) || counter > RatchetLimits.MaxSkip)
        {
            return ProtocolVectorOutcome.Failed(ProtocolErrorKind.TooFarAhead);
        }

        var step = new JsonObject { ["remote_ratchet_public"] = Hex(ratchetKey) };
        var oldSkipped = new List<(byte[] RatchetKey, uint Counter, byte[] MessageKey)>();
        if (hasOldChain)
        {
            var oldChain = receivingChainKey!;
            var oldKeys = new JsonArray();
            for (var n = receivingCounter; n < oldChainEnd; n++)
            {
                var (messageKey, next) = KdfCk(oldChain);
                oldSkipped.Add((receivingPublic!, n, messageKey));
                oldKeys.Add(Obj(("counter", n), ("message_key", messageKey)));
                oldChain = next;
            }

            step["old_chain"] = Obj(
                ("ratchet_public", receivingPublic),
                ("chain_key", receivingChainKey),
                ("from_counter", receivingCounter),
                ("until_counter", oldChainEnd),
                ("skipped", oldKeys));
        }

        var receiveDh = Dh(sendingPrivate, ratchetKey);
        var (middleRoot, newReceivingChain) = KdfRk(rootKey, receiveDh);
        step["receiving_step"] = Obj(
            ("local_ratchet_private", sendingPrivate),
            ("dh", receiveDh),
            ("root_key", rootKey),
            ("next_root_key", middleRoot),
            ("chain_key", newReceivingChain));
        var newPrivate = newRatchetPrivate();
        var newPublic = X25519Public(newPrivate);
        var sendDh = Dh(newPrivate, ratchetKey);
        var (newRoot, newSendingChain) = KdfRk(middleRoot, sendDh);
        step["new_ratchet_private"] = Hex(newPrivate);
        step["new_ratchet_public"] = Hex(newPublic);
        step["sending_step"] = Obj(
            ("dh", sendDh),
            ("root_key", middleRoot),
            ("next_root_key", newRoot),
            ("chain_key", newSendingChain));
        record["dh_ratchet"] = step;

        var (_, newChainSkipped, key, nextReceivingChain) = Receive(newReceivingChain, ratchetKey, 0, counter, record);
        var opened = Open(key, associatedData, ciphertext);
        if (opened is null)
        {
            return ProtocolVectorOutcome.Failed(ProtocolErrorKind.Tampered);
        }

        if (hasOldChain)
        {
            AddSkipped(oldSkipped);
            retired.Add((receivingPublic!, oldChainEnd));
            if (retired.Count > RatchetLimits.MaxRetiredChains)
            {
                retired.RemoveAt(0);
            }
        }

        AddSkipped(newChainSkipped);
        previousSendingCounter = sendingCounter;
        sendingCounter = 0;
        receivingCounter = counter + 1;
        sendingPrivate = newPrivate;
        sendingPublic = newPublic;
        receivingPublic = ratchetKey;
        rootKey = newRoot;
        sendingChainKey = newSendingChain;
        receivingChainKey = nextReceivingChain;
        return ProtocolVectorOutcome.Decrypted(opened);
    }

    /// <summary>The state a second implementation must hold after a step (docs/protocol.md §8).</summary>
    internal JsonObject StateJson()
    {
        var skippedJson = new JsonArray();
        foreach (var (key, counter, messageKey) in skipped)
        {
            skippedJson.Add(Obj(("ratchet_public", key), ("counter", counter), ("message_key", messageKey)));
        }

        var retiredJson = new JsonArray();
        foreach (var (key, next) in retired)
        {
            retiredJson.Add(Obj(("ratchet_public", key), ("next_counter", next)));
        }

        return Obj(
            ("root_key", rootKey),
            ("sending_ratchet_private", sendingPrivate),
            ("sending_ratchet_public", sendingPublic),
            ("receiving_ratchet_public", receivingPublic),
            ("sending_chain_key", sendingChainKey),
            ("receiving_chain_key", receivingChainKey),
            ("sending_counter", sendingCounter),
            ("receiving_counter", receivingCounter),
            ("previous_sending_counter", previousSendingCounter),
            ("skipped", skippedJson),
            ("retired", retiredJson));
    }

    /// <summary>Checks the library's session, as it serializes itself, against this model.</summary>
    internal void AssertSameState(RatchetSession session)
    {
        var state = SessionState.Parser.ParseFrom(session.Serialize());
        Same("root key", rootKey, state.RootKey.ToByteArray());
        Same("sending ratchet private", sendingPrivate, state.SendingRatchetPrivate.ToByteArray());
        Same("sending ratchet public", sendingPublic, state.SendingRatchetPublic.ToByteArray());
        Same("receiving ratchet key", receivingPublic ?? [], state.ReceivingRatchetKey.ToByteArray());
        Same("sending chain key", sendingChainKey ?? [], state.SendingChainKey.ToByteArray());
        Same("receiving chain key", receivingChainKey ?? [], state.ReceivingChainKey.ToByteArray());
        Same("counters", new[] { sendingCounter, receivingCounter, previousSendingCounter }, new[] { state.SendingCounter, state.ReceivingCounter, state.PreviousSendingCounter });
        Same("skipped count", skipped.Count, state.Skipped.Count);
        for (var i = 0; i < skipped.Count; i++)
        {
            Same("skipped ratchet key", skipped[i].RatchetKey, state.Skipped[i].RatchetKey.ToByteArray());
            Same("skipped counter", skipped[i].Counter, state.Skipped[i].Counter);
            Same("skipped message key", skipped[i].MessageKey, state.Skipped[i].MessageKey.ToByteArray());
        }

        Same("retired count", retired.Count, state.Retired.Count);
        for (var i = 0; i < retired.Count; i++)
        {
            Same("retired ratchet key", retired[i].RatchetKey, state.Retired[i].RatchetKey.ToByteArray());
            Same("retired next counter", retired[i].NextCounter, state.Retired[i].NextCounter);
        }
    }

    private static void Same<T>(string what, T expected, T actual)
        where T : notnull
    {
        var equal = expected is byte[] e && actual is byte[] a ? e.AsSpan().SequenceEqual(a)
            : expected is uint[] eu && actual is uint[] au ? eu.AsSpan().SequenceEqual(au)
            : expected.Equals(actual);
        if (!equal)
        {
            throw new InvalidOperationException($"vector model and library disagree on the {what}");
        }
    }

    private static JsonObject HeaderJson(byte[] header) => Obj(
        ("ratchet_public", header[..32]),
        ("previous_counter", System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(32))),
        ("counter", System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(36))),
        ("bytes", header));

    /// <summary>Steps a receiving chain from counter <paramref name="from"/> to <paramref name="counter"/>, recording it.</summary>
    private static (byte[] ChainKey, List<(byte[] RatchetKey, uint Counter, byte[] MessageKey)> Skipped, byte[] MessageKey, byte[] NextChainKey) Receive(
        byte[] chainKey, byte[] ratchetKey, uint from, uint counter, JsonObject record)
    {
        var start = chainKey;
        var newSkipped = new List<(byte[] RatchetKey, uint Counter, byte[] MessageKey)>();
        var skippedJson = new JsonArray();
        for (var n = from; n < counter; n++)
        {
            var (skippedKey, next) = KdfCk(chainKey);
            newSkipped.Add((ratchetKey, n, skippedKey));
            skippedJson.Add(Obj(("counter", n), ("message_key", skippedKey)));
            chainKey = next;
        }

        var (messageKey, nextChainKey) = KdfCk(chainKey);
        record["receiving_chain"] = Obj(
            ("chain_key", start),
            ("from_counter", from),
            ("skipped", skippedJson),
            ("message_key", messageKey),
            ("next_chain_key", nextChainKey));
        return (start, newSkipped, messageKey, nextChainKey);
    }

    private void AddSkipped(List<(byte[] RatchetKey, uint Counter, byte[] MessageKey)> keys)
    {
        skipped.AddRange(keys);
        if (skipped.Count > RatchetLimits.MaxStoredSkippedKeys)
        {
            skipped.RemoveRange(0, skipped.Count - RatchetLimits.MaxStoredSkippedKeys);
        }
    }
}

/// <summary>What the model's RatchetDecrypt concluded: a plaintext, or the error kind the library must report.</summary>
internal sealed record ProtocolVectorOutcome(byte[]? Plaintext, ProtocolErrorKind? Error)
{
    internal static ProtocolVectorOutcome Decrypted(byte[] plaintext) => new(plaintext, null);

    internal static ProtocolVectorOutcome Failed(ProtocolErrorKind error) => new(null, error);
}
