using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Org.BouncyCastle.Crypto.Parameters;
using Parley.Protocol.Identity;
using Parley.Protocol.Primitives;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;
using static Parley.Protocol.Tests.Vectors.ProtocolVectorSpec;
using PrivateIdentity = Parley.Protocol.Internal.Stored.PrivateIdentity;

namespace Parley.Protocol.Tests.Vectors;

/// <summary>
/// The scripted conversation behind docs/vectors/conversation-v1.json and
/// docs/vectors/safety-number-v1.json. It runs only the public API (IdentityKeyPair,
/// the prekey records, PreKeyBundle, RatchetSession) on the fixed byte stream of
/// <see cref="ProtocolVectorRandom"/>, recomputes every intermediate value with
/// <see cref="ProtocolVectorSpec"/> and <see cref="ProtocolVectorRatchet"/>, and throws if the
/// library and the written-out spec disagree on any byte: the messages it sends, the state it
/// keeps, or the error it reports.
/// </summary>
internal sealed class ProtocolVectorConversation
{
    internal const uint SignedPreKeyId = 7;
    internal const uint OneTimePreKeyId = 1001;
    internal const uint KemPreKeyId = 300;

    private readonly ProtocolVectorRandom random = new();
    private readonly JsonArray steps = [];
    private readonly Dictionary<string, byte[]> sent = [];
    private readonly InMemoryPreKeyStore bobPreKeys = new();
    private readonly Dictionary<string, int> ratchetKeys = new() { ["alice"] = 0, ["bob"] = 0 };
    private readonly Dictionary<string, int> discardedKeys = new() { ["alice"] = 0, ["bob"] = 0 };
    private readonly Dictionary<string, RatchetSession> sessions = [];
    private readonly Dictionary<string, ProtocolVectorRatchet> models = [];
    private IdentityKeyPair alice = null!;
    private IdentityKeyPair bob = null!;

    private ProtocolVectorConversation()
    {
    }

    /// <summary>Runs the script and returns (conversation-v1.json, safety-number-v1.json) as JSON trees.</summary>
    internal static (JsonObject Conversation, JsonObject SafetyNumber) Generate()
    {
        var conversation = new ProtocolVectorConversation();
        using var deterministic = RandomSource.UseDeterministicSourceForVectors(conversation.random.Fill);
        try
        {
            return conversation.Run();
        }
        finally
        {
            foreach (var session in conversation.sessions.Values)
            {
                session.Dispose();
            }

            conversation.alice?.Dispose();
            conversation.bob?.Dispose();
        }
    }

    private (JsonObject Conversation, JsonObject SafetyNumber) Run()
    {
        // Identities and Bob's prekeys (docs/protocol.md §3, §4).
        JsonObject aliceJson;
        (alice, aliceJson) = NewIdentity("alice");
        JsonObject bobJson;
        (bob, bobJson) = NewIdentity("bob");

        random.Expect("bob.signed_pre_key.private", 32);
        var signedPreKey = SignedPreKeyRecord.Generate(bob, SignedPreKeyId, DateTimeOffset.UnixEpoch);
        random.Expect("bob.one_time_pre_key.private", 32);
        var oneTimePreKey = OneTimePreKeyRecord.Generate(OneTimePreKeyId);
        random.Expect("bob.kem_pre_key.seed", 64);
        var kemPreKey = KemPreKeyRecord.Generate(bob, KemPreKeyId, lastResort: false, DateTimeOffset.UnixEpoch);
        random.AssertAllDrawn();
        bobPreKeys.Add(signedPreKey);
        bobPreKeys.Add(oneTimePreKey);
        bobPreKeys.Add(kemPreKey);
        bobJson["signed_pre_key"] = SignedPreKeyJson(signedPreKey);
        bobJson["one_time_pre_key"] = OneTimePreKeyJson(oneTimePreKey);
        bobJson["kem_pre_key"] = KemPreKeyJson(kemPreKey);

        var bundle = new PreKeyBundle
        {
            Version = ProtocolVersion.Current,
            Identity = bob.PublicKey.ToWire(),
            SignedPreKey = signedPreKey.ToWire(),
            KemPreKey = kemPreKey.ToWire(),
            OneTimePreKey = oneTimePreKey.ToWire(),
        };

        // PQXDH, initiator side (§5), and RatchetInitAlice (§6.1). The KEM ciphertext and EK_A
        // leave Initiate only inside the first message, so the model starts from m1's bytes.
        random.Expect("alice.pqxdh.ephemeral_private", 32);
        random.Expect("alice.pqxdh.kem_encapsulation_m", 32);
        random.Expect(RatchetDraw("alice"), 32);
        sessions["alice"] = RatchetSession.Initiate(alice, bundle);
        random.AssertAllDrawn();
        ratchetKeys["alice"]++;
        const string FirstText = "Hi Bob, this is Alice. You were offline, so this is a PreKeyMessage.";
        var first = sessions["alice"].Encrypt(Encoding.UTF8.GetBytes(FirstText));

        var associatedDataPrefix = Concat(alice.PublicKey.Encode(), bob.PublicKey.Encode(), [(byte)ProtocolVersion.Current]);
        var pqxdh = InitiatorPqxdh(RatchetSession.ParseMessage(first).PreKey, signedPreKey, oneTimePreKey, kemPreKey, out var sharedSecret, out var kemSecret);
        models["alice"] = ProtocolVectorRatchet.Initiator(associatedDataPrefix, sharedSecret, signedPreKey.PublicKey.ToArray(), random.Get("alice.ratchet_key_1.private"), out var aliceInit);

        // The script (docs/protocol.md appendix A).
        Sent("alice", "m1", FirstText, first, "First message: a PreKeyMessage carrying PQXDH with a one-time prekey, on Alice's first sending chain.");
        Send("alice", "m2", "A second message before you answer.", "Alice sends again before any reply: still a PreKeyMessage (same PQXDH values), counter 1.");
        var bobInit = Accept("m1", associatedDataPrefix, signedPreKey, oneTimePreKey, sharedSecret, kemSecret, "Bob accepts m1: PQXDH as responder, RatchetInitBob with his signed prekey pair, then a DH ratchet step to decrypt. The one-time prekey and the (not last-resort) KEM prekey are consumed.");
        Receive("bob", "m2", "Bob receives m2 on the session Accept made (same EK_A): same receiving chain, counter 1.");
        Send("bob", "m3", "Hi Alice! Got both of them.", "Bob's first reply: a RatchetMessage on the sending chain from his DH ratchet step.");
        Receive("alice", "m3", "Alice receives Bob's reply: DH ratchet step; she stops sending PreKeyMessages.");
        Send("alice", "m4", "Great, the ratchet turned.", "Alice's reply on her new chain; pn = 2 (she sent m1 and m2 on the previous one).");
        Receive("bob", "m4", "Bob receives m4: DH ratchet step.");
        Send("bob", "m5", "This one arrives second...", "Bob sends two messages; they will arrive out of order.");
        Send("bob", "m6", "...and this one first.", "The second of the pair.");
        Receive("alice", "m6", "m6 arrives first: DH ratchet step, and the key for counter 0 (m5) is derived and stored as skipped.");
        Receive("alice", "m5", "m5 arrives late: decrypted with the stored skipped key, which is then deleted.");
        Send("alice", "m7", "Two more from me:", "Alice sends two messages; only the first arrives before the next ratchet step.");
        Send("alice", "m8", "this one is delayed across a ratchet step.", "This one is held back until after Bob has ratcheted again.");
        Receive("bob", "m7", "Bob receives m7: DH ratchet step (m8 is still in flight).");
        Send("bob", "m9", "Only one of your two arrived so far.", "Bob replies on his new chain.");
        Receive("alice", "m9", "Alice receives m9: DH ratchet step.");
        Send("alice", "m10", "The other one will turn up.", "Alice replies on her new chain; pn = 2 tells Bob her previous chain had two messages.");
        Receive("bob", "m10", "Bob receives m10: before the DH ratchet step he derives and stores the key of counter 1 on the old chain (pn = 2, he had received only counter 0).");
        Receive("bob", "m8", "m8 arrives late from a previous chain: decrypted with the key stored when that chain was closed.");
        Send("bob", "m11", string.Empty, "An empty message: the ciphertext is the 16-byte tag alone.");
        Reject("alice", "m11", Modified(sent["m11"], "ciphertext", 15), "A tampered ciphertext (byte 15, in the tag, XOR 0x01) fails authentication. The attempt computes a DH ratchet step (drawing a key pair it then discards) and changes no state.");
        Reject("alice", "m11", Modified(sent["m11"], "header", 39), "The header is part of the associated data, so a tampered header (byte 39, the low byte of the counter: 0 -> 1) fails authentication too; no state changes.");
        Receive("alice", "m11", "The genuine m11 still decrypts after the rejected attempts.");
        Reject("alice", "m11", (sent["m11"], null), "m11 delivered again: its key was used and the receiving chain has moved past counter 0: Replayed.");
        Reject("bob", "m8", (sent["m8"], null), "m8 delivered again: its stored key was deleted when used, and its chain is retired with next counter 2: Replayed.");
        Reject("bob", "m1", (sent["m1"], null), "m1 delivered again to Bob's session (Matches: same EK_A): the chain it was on is retired: Replayed.");
        RejectAccept("m1", "m1 given to Accept again, as if new: its one-time prekey and KEM prekey were consumed: UnknownPreKey.");
        Reject("alice", "m11", WithVersion(sent["m11"], 2), "A message of an unknown protocol version is refused before any cryptography: UnsupportedVersion.");

        var conversation = new JsonObject
        {
            ["description"] = "Parley protocol v1 test vectors: a scripted conversation between alice (initiator) and bob. Spec: docs/protocol.md. Generated by tests/Parley.Protocol.Tests/Vectors/ProtocolVectors.cs (PARLEY_WRITE_VECTORS=1 rewrites this file); checked independently by tests/interop/verify_vectors.py. All byte strings are lowercase hex.",
            ["protocol_version"] = ProtocolVersion.Current,
            ["random_stream"] = RandomStreamJson(),
            ["constants"] = ConstantsJson(),
            ["alice"] = aliceJson,
            ["bob"] = bobJson,
            ["bundle"] = Obj(
                ("description", "The PreKeyBundle the directory hands Alice (protocol.proto PreKeyBundle)."),
                ("serialized", bundle.ToByteArray())),
            ["pqxdh"] = pqxdh,
            ["associated_data_prefix"] = Hex(associatedDataPrefix),
            ["ratchet_init"] = new JsonObject { ["alice"] = aliceInit, ["bob"] = bobInit },
            ["steps"] = steps,
        };
        return (conversation, SafetyNumberJson());
    }

    private (IdentityKeyPair Identity, JsonObject Json) NewIdentity(string name)
    {
        random.Expect($"{name}.identity.signing_seed", 32);
        random.Expect($"{name}.identity.dh_private", 32);
        var identity = IdentityKeyPair.Generate();
        random.AssertAllDrawn();

        var seed = random.Get($"{name}.identity.signing_seed");
        var dhPrivate = random.Get($"{name}.identity.dh_private");
        var exported = PrivateIdentity.Parser.ParseFrom(identity.Export());
        Check(exported.SigningSeed.Span.SequenceEqual(seed) && exported.DhPrivate.Span.SequenceEqual(dhPrivate), "identity private keys are the drawn bytes");
        var key = identity.PublicKey;
        var signatureInput = IdentityDhSignatureInput(key.DhKey.ToArray());
        Check(key.SigningKey.SequenceEqual(Ed25519Public(seed)), "Ed25519 public key");
        Check(key.DhKey.SequenceEqual(X25519Public(dhPrivate)), "X25519 public key");
        Check(key.DhKeySignature.SequenceEqual(Ed25519Sign(seed, signatureInput)), "identity DH key signature");
        Check(key.Encode().AsSpan().SequenceEqual(Concat(key.SigningKey.ToArray(), key.DhKey.ToArray())), "Encode(IK)");
        Check(key.Fingerprint == Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(key.SigningKey)), "fingerprint");
        var json = Obj(
            ("name", name),
            ("identity", Obj(
                ("signing_seed", seed),
                ("signing_public", key.SigningKey.ToArray()),
                ("dh_private", dhPrivate),
                ("dh_public", key.DhKey.ToArray()),
                ("dh_signature_input", signatureInput),
                ("dh_signature", key.DhKeySignature.ToArray()),
                ("encoded", key.Encode()),
                ("fingerprint", key.Fingerprint))));
        return (identity, json);
    }

    private JsonObject SignedPreKeyJson(SignedPreKeyRecord record)
    {
        var privateKey = random.Get("bob.signed_pre_key.private");
        var wire = record.ToWire();
        var input = SignedPreKeySignatureInput(record.Id, record.PublicKey.ToArray());
        Check(record.PrivateKey.SequenceEqual(privateKey) && record.PublicKey.SequenceEqual(X25519Public(privateKey)), "signed prekey pair");
        Check(wire.Signature.Span.SequenceEqual(Ed25519Sign(random.Get("bob.identity.signing_seed"), input)), "signed prekey signature");
        return Obj(("id", record.Id), ("private", privateKey), ("public", record.PublicKey.ToArray()), ("signature_input", input), ("signature", wire.Signature.ToByteArray()));
    }

    private JsonObject OneTimePreKeyJson(OneTimePreKeyRecord record)
    {
        var privateKey = random.Get("bob.one_time_pre_key.private");
        Check(record.PrivateKey.SequenceEqual(privateKey) && record.PublicKey.SequenceEqual(X25519Public(privateKey)), "one-time prekey pair");
        return Obj(("id", record.Id), ("private", privateKey), ("public", record.PublicKey.ToArray()));
    }

    private JsonObject KemPreKeyJson(KemPreKeyRecord record)
    {
        var seed = random.Get("bob.kem_pre_key.seed");
        var fromSeed = MLKemPrivateKeyParameters.FromSeed(MLKemParameters.ml_kem_768, seed, MLKemPrivateKeyParameters.Format.EncodingOnly);
        Check(fromSeed.GetEncoded().AsSpan().SequenceEqual(record.SecretKey) && fromSeed.GetPublicKeyEncoded().AsSpan().SequenceEqual(record.PublicKey), "ML-KEM-768 key pair is KeyGen(d, z) of the drawn bytes");
        var wire = record.ToWire();
        var input = KemPreKeySignatureInput(record.Id, record.LastResort, record.PublicKey.ToArray());
        Check(wire.Signature.Span.SequenceEqual(Ed25519Sign(random.Get("bob.identity.signing_seed"), input)), "KEM prekey signature");
        return Obj(
            ("id", record.Id),
            ("last_resort", record.LastResort),
            ("seed", seed),
            ("public", record.PublicKey.ToArray()),
            ("secret", record.SecretKey.ToArray()),
            ("signature_input", input),
            ("signature", wire.Signature.ToByteArray()));
    }

    /// <summary>PQXDH §3.3 as the initiator computes it, from the drawn EK_A and the KEM secret recovered by decapsulating m1's ciphertext.</summary>
    private JsonObject InitiatorPqxdh(PreKeyMessage first, SignedPreKeyRecord signedPreKey, OneTimePreKeyRecord oneTimePreKey, KemPreKeyRecord kemPreKey, out byte[] sharedSecret, out byte[] kemSecret)
    {
        var ephemeralPrivate = random.Get("alice.pqxdh.ephemeral_private");
        var ephemeralPublic = X25519Public(ephemeralPrivate);
        Check(first.EphemeralKey.Span.SequenceEqual(ephemeralPublic), "EK_A");
        var kemCiphertext = first.KemCiphertext.ToByteArray();
        kemSecret = new byte[MlKem768.SharedSecretSize];
        Check(MlKem768.TryDecapsulate(kemPreKey.SecretKey, kemCiphertext, kemSecret), "ML-KEM decapsulation");
        Check(first.SignedPreKeyId == SignedPreKeyId && first.KemPreKeyId == KemPreKeyId && first.HasOneTimePreKey && first.OneTimePreKeyId == OneTimePreKeyId, "prekey ids in the PreKeyMessage");
        Check(first.Identity.Equals(alice.PublicKey.ToWire()), "IK_A in the PreKeyMessage");

        var alicePrivate = random.Get("alice.identity.dh_private");
        var dh1 = Dh(alicePrivate, signedPreKey.PublicKey);
        var dh2 = Dh(ephemeralPrivate, bob.PublicKey.DhKey);
        var dh3 = Dh(ephemeralPrivate, signedPreKey.PublicKey);
        var dh4 = Dh(ephemeralPrivate, oneTimePreKey.PublicKey);
        var material = Concat(PqxdhPrefix, dh1, dh2, dh3, dh4, kemSecret);
        sharedSecret = PqxdhSecret(material);
        return Obj(
            ("description", "PQXDH as Alice runs it (docs/protocol.md §5). ML-KEM-768 is not re-derivable by every verifier: kem_shared_secret is given; kem_ciphertext decapsulates to it under bob.kem_pre_key.secret (checked by ProtocolVectors.KemCiphertextDecapsulatesToTheRecordedSecret, and by verify_vectors.py where the Python library has ML-KEM)."),
            ("ephemeral_private", ephemeralPrivate),
            ("ephemeral_public", ephemeralPublic),
            ("kem_encapsulation_m", random.Get("alice.pqxdh.kem_encapsulation_m")),
            ("kem_ciphertext", kemCiphertext),
            ("kem_shared_secret", kemSecret),
            ("dh1", dh1),
            ("dh2", dh2),
            ("dh3", dh3),
            ("dh4", dh4),
            ("key_material", material),
            ("salt", PqxdhSalt),
            ("info", PqxdhInfo),
            ("shared_secret", sharedSecret));
    }

    /// <summary>The draw name of a party's next ratchet private key (alice.ratchet_key_1.private, ...).</summary>
    private string RatchetDraw(string party) => $"{party}.ratchet_key_{ratchetKeys[party] + 1}.private";

    private JsonObject NewStep(string action, string party, string message, string description) => Obj(
        ("step", steps.Count + 1),
        ("action", action),
        ("party", party),
        ("message", message),
        ("description", description));

    private void Send(string party, string name, string text, string description) =>
        Sent(party, name, text, sessions[party].Encrypt(Encoding.UTF8.GetBytes(text)), description);

    /// <summary>Records a message the library encrypted, after checking it against the model's RatchetEncrypt.</summary>
    private void Sent(string party, string name, string text, byte[] serialized, string description)
    {
        var plaintext = Encoding.UTF8.GetBytes(text);
        var record = NewStep("encrypt", party, name, description);
        record["plaintext_utf8"] = text;
        record["plaintext"] = Hex(plaintext);
        var (header, ciphertext) = models[party].Encrypt(plaintext, record);
        var parsed = RatchetSession.ParseMessage(serialized);
        var ratchetMessage = parsed.BodyCase == CiphertextMessage.BodyOneofCase.PreKey ? parsed.PreKey.Message : parsed.Ratchet;
        Check(ratchetMessage.Version == ProtocolVersion.Current, "RatchetMessage.version");
        Check(ratchetMessage.Header.Span.SequenceEqual(header), $"header of {name}");
        Check(ratchetMessage.Ciphertext.Span.SequenceEqual(ciphertext), $"ciphertext of {name}");
        record["message_type"] = parsed.BodyCase == CiphertextMessage.BodyOneofCase.PreKey ? "pre_key" : "ratchet";
        record["serialized"] = Hex(serialized);
        record["state_after"] = models[party].StateJson();
        models[party].AssertSameState(sessions[party]);
        sent[name] = serialized;
        steps.Add(record);
    }

    /// <summary>Bob answers the PreKeyMessage (PQXDH §3.4 as responder, then RatchetInitBob and RatchetDecrypt).</summary>
    private JsonObject Accept(string name, byte[] associatedDataPrefix, SignedPreKeyRecord signedPreKey, OneTimePreKeyRecord oneTimePreKey, byte[] sharedSecret, byte[] kemSecret, string description)
    {
        var message = RatchetSession.ParseMessage(sent[name]).PreKey;
        var purpose = RatchetDraw("bob");
        random.Expect(purpose, 32);
        sessions["bob"] = RatchetSession.Accept(bob, message, bobPreKeys, out var plaintext);
        random.AssertAllDrawn();
        ratchetKeys["bob"]++;

        var record = NewStep("accept", "bob", name, description);
        var ephemeral = message.EphemeralKey.ToByteArray();
        var dh1 = Dh(signedPreKey.PrivateKey.ToArray(), alice.PublicKey.DhKey);
        var dh2 = Dh(random.Get("bob.identity.dh_private"), ephemeral);
        var dh3 = Dh(signedPreKey.PrivateKey.ToArray(), ephemeral);
        // Accept erased the consumed one-time prekey; its private half is the drawn one.
        Check(oneTimePreKey.PrivateKey.IndexOfAnyExcept((byte)0) < 0, "erasure of the consumed one-time prekey");
        var dh4 = Dh(random.Get("bob.one_time_pre_key.private"), ephemeral);
        var material = Concat(PqxdhPrefix, dh1, dh2, dh3, dh4, kemSecret);
        var responderSecret = PqxdhSecret(material);
        Check(responderSecret.AsSpan().SequenceEqual(sharedSecret), "SK (initiator and responder)");
        record["pqxdh_responder"] = Obj(("dh1", dh1), ("dh2", dh2), ("dh3", dh3), ("dh4", dh4), ("key_material", material), ("shared_secret", responderSecret));

        models["bob"] = ProtocolVectorRatchet.Responder(associatedDataPrefix, sharedSecret, random.Get("bob.signed_pre_key.private"), out var init);
        var outcome = models["bob"].Decrypt(message.Message.Header.ToByteArray(), message.Message.Ciphertext.ToByteArray(), () => random.Get(purpose), record);
        Check(outcome.Plaintext is not null && outcome.Plaintext.AsSpan().SequenceEqual(plaintext), "plaintext of the accepted message");
        if (record["dh_ratchet"] is JsonObject step)
        {
            step["new_ratchet_draw"] = purpose;
        }

        record["plaintext_utf8"] = Encoding.UTF8.GetString(plaintext);
        record["plaintext"] = Hex(plaintext);
        Check(bobPreKeys.GetOneTimePreKey(OneTimePreKeyId) is null && bobPreKeys.GetKemPreKey(KemPreKeyId) is null && bobPreKeys.GetSignedPreKey(SignedPreKeyId) is not null, "prekey consumption");
        record["consumed_one_time_pre_key_id"] = OneTimePreKeyId;
        record["consumed_kem_pre_key_id"] = KemPreKeyId;
        record["state_after"] = models["bob"].StateJson();
        models["bob"].AssertSameState(sessions["bob"]);
        steps.Add(record);
        return init;
    }

    private void Receive(string party, string name, string description)
    {
        var record = NewStep("decrypt", party, name, description);
        var message = RatchetSession.ParseMessage(sent[name]);
        var purpose = RatchetDraw(party);
        random.Expect(purpose, 32);
        var plaintext = sessions[party].Decrypt(message);
        var drew = !random.CancelPending();
        if (drew)
        {
            ratchetKeys[party]++;
        }

        var ratchetMessage = message.BodyCase == CiphertextMessage.BodyOneofCase.PreKey ? message.PreKey.Message : message.Ratchet;
        var outcome = models[party].Decrypt(ratchetMessage.Header.ToByteArray(), ratchetMessage.Ciphertext.ToByteArray(), () => random.Get(purpose), record);
        Check(outcome.Plaintext is not null && outcome.Plaintext.AsSpan().SequenceEqual(plaintext), $"plaintext of {name}");
        NoteDraw(record, drew, purpose);
        record["plaintext_utf8"] = Encoding.UTF8.GetString(plaintext);
        record["plaintext"] = Hex(plaintext);
        record["state_after"] = models[party].StateJson();
        models[party].AssertSameState(sessions[party]);
        steps.Add(record);
    }

    /// <summary>Delivers bytes that must be refused, and checks the library reports the error kind the model predicts and keeps its state.</summary>
    private void Reject(string party, string name, (byte[] Bytes, JsonObject? Modification) delivered, string description)
    {
        var record = NewStep("decrypt", party, name, description);
        var serialized = delivered.Bytes;
        if (delivered.Modification is not null)
        {
            record["modification"] = delivered.Modification;
            record["serialized"] = Hex(serialized);
        }

        var purpose = $"{party}.discarded_key_{discardedKeys[party] + 1}.private";
        random.Expect(purpose, 32);
        ProtocolErrorKind? kind = null;
        CiphertextMessage? message = null;
        try
        {
            message = RatchetSession.ParseMessage(serialized);
            _ = sessions[party].Decrypt(message);
        }
        catch (ParleyProtocolException e)
        {
            kind = e.Kind;
        }

        Check(kind is not null, $"rejection of {name}");
        var drew = !random.CancelPending();
        if (drew)
        {
            discardedKeys[party]++;
        }

        if (kind == ProtocolErrorKind.UnsupportedVersion)
        {
            Check(message is null && !drew, "version refusal before any cryptography");
        }
        else
        {
            var ratchetMessage = message!.BodyCase == CiphertextMessage.BodyOneofCase.PreKey ? message.PreKey.Message : message.Ratchet;
            var outcome = models[party].Decrypt(ratchetMessage.Header.ToByteArray(), ratchetMessage.Ciphertext.ToByteArray(), () => random.Get(purpose), record);
            Check(outcome.Error == kind, $"error kind for {name}");
            NoteDraw(record, drew, purpose);
        }

        record["error"] = kind.ToString();
        record["state_after"] = models[party].StateJson();
        models[party].AssertSameState(sessions[party]);
        steps.Add(record);
    }

    private void RejectAccept(string name, string description)
    {
        var record = NewStep("accept", "bob", name, description);
        var error = Assert.Throws<ParleyProtocolException>(() => RatchetSession.Accept(bob, RatchetSession.ParseMessage(sent[name]).PreKey, bobPreKeys, out _));
        random.AssertAllDrawn();
        Check(error.Kind == ProtocolErrorKind.UnknownPreKey, "replayed PreKeyMessage");
        record["error"] = error.Kind.ToString();
        steps.Add(record);
    }

    /// <summary>A DH ratchet step draws exactly one key pair; the record names the draw.</summary>
    private static void NoteDraw(JsonObject record, bool drew, string purpose)
    {
        Check(drew == record["dh_ratchet"] is JsonObject, "when a ratchet key pair is drawn");
        if (record["dh_ratchet"] is JsonObject step)
        {
            step["new_ratchet_draw"] = purpose;
        }
    }

    /// <summary>The message with one byte of a RatchetMessage field XORed with 0x01, and that change as JSON.</summary>
    private static (byte[] Bytes, JsonObject Modification) Modified(byte[] serialized, string field, int index)
    {
        var message = CiphertextMessage.Parser.ParseFrom(serialized);
        var bytes = (field == "header" ? message.Ratchet.Header : message.Ratchet.Ciphertext).ToByteArray();
        bytes[index] ^= 0x01;
        if (field == "header")
        {
            message.Ratchet.Header = ByteString.CopyFrom(bytes);
        }
        else
        {
            message.Ratchet.Ciphertext = ByteString.CopyFrom(bytes);
        }

        return (message.ToByteArray(), Obj(("field", field), ("index", index), ("xor", 1)));
    }

    /// <summary>The message with RatchetMessage.version replaced.</summary>
    private static (byte[] Bytes, JsonObject Modification) WithVersion(byte[] serialized, uint version)
    {
        var message = CiphertextMessage.Parser.ParseFrom(serialized);
        message.Ratchet.Version = version;
        return (message.ToByteArray(), Obj(("field", "version"), ("value", version)));
    }

    private JsonObject RandomStreamJson()
    {
        var draws = new JsonArray();
        foreach (var draw in random.Draws)
        {
            draws.Add(Obj(("purpose", draw.Purpose), ("offset", draw.Offset), ("bytes", draw.Bytes)));
        }

        return Obj(
            ("description", "Every random byte the library drew, in order. block i = SHA-256(UTF-8(seed) || i as u64 big-endian) for i = 0, 1, 2, ...; the stream is block 0 || block 1 || ...; each draw takes the next bytes. X25519 private keys are the 32 drawn bytes as they are (clamped by X25519 itself); an Ed25519 private key is its 32-byte seed; an ML-KEM-768 key pair is KeyGen_internal(d, z) of FIPS 203; an encapsulation uses the drawn m. Draws named discarded_key were made by DH ratchet steps of messages that then failed authentication."),
            ("seed", ProtocolVectorRandom.Seed),
            ("draws", draws));
    }

    private static JsonObject ConstantsJson() => Obj(
        ("identity_dh_label", IdentityDhLabel),
        ("signed_pre_key_label", SignedPreKeyLabel),
        ("kem_pre_key_label", KemPreKeyLabel),
        ("pqxdh_info", PqxdhInfo),
        ("root_chain_info", RootChainInfo),
        ("pqxdh_f", PqxdhPrefix),
        ("pqxdh_salt", PqxdhSalt),
        ("message_key_seed", new byte[] { 0x01 }),
        ("chain_key_seed", new byte[] { 0x02 }),
        ("aead_nonce", Nonce),
        ("max_skip", (uint)Ratchet.RatchetLimits.MaxSkip),
        ("max_stored_skipped_keys", (uint)Ratchet.RatchetLimits.MaxStoredSkippedKeys),
        ("max_retired_chains", (uint)Ratchet.RatchetLimits.MaxRetiredChains));

    /// <summary>Safety numbers (docs/protocol.md §7) for the conversation's two identities, seen from both sides, and a UTF-8 name.</summary>
    private JsonObject SafetyNumberJson()
    {
        var cases = new JsonArray
        {
            SafetyCase("alice's view", "alice", "alice", alice.PublicKey, "bob", "bob", bob.PublicKey),
            SafetyCase("bob's view: the same 60 digits", "bob", "bob", bob.PublicKey, "alice", "alice", alice.PublicKey),
            SafetyCase("names are UTF-8 (NFC as given, not normalised)", "alice", "zo\u00eb", alice.PublicKey, "bob", "bob", bob.PublicKey),
        };
        return new JsonObject
        {
            ["description"] = "Parley safety numbers (docs/protocol.md §7): Signal's NumericFingerprintGenerator over the 32-byte Ed25519 identity signing key and the UTF-8 user name. Keys are those of docs/vectors/conversation-v1.json. Generated by tests/Parley.Protocol.Tests/Vectors/ProtocolVectors.cs; checked by tests/interop/verify_vectors.py.",
            ["iterations"] = SafetyNumber.Iterations,
            ["version"] = 0,
            ["cases"] = cases,
        };
    }

    private JsonObject SafetyCase(string description, string localParty, string localName, IdentityKey local, string remoteParty, string remoteName, IdentityKey remote)
    {
        var number = SafetyNumber.Compute(localName, local, remoteName, remote);
        var (localInput, localHalf) = SafetyHalf(localName, local.SigningKey.ToArray());
        var (remoteInput, remoteHalf) = SafetyHalf(remoteName, remote.SigningKey.ToArray());
        var expected = string.CompareOrdinal(localHalf, remoteHalf) <= 0 ? localHalf + remoteHalf : remoteHalf + localHalf;
        Check(number == expected, "safety number");
        return Obj(
            ("description", description),
            ("local", SafetyParty(localParty, localName, local, localInput, localHalf)),
            ("remote", SafetyParty(remoteParty, remoteName, remote, remoteInput, remoteHalf)),
            ("safety_number", number),
            ("formatted", SafetyNumber.Format(number)));
    }

    private JsonObject SafetyParty(string party, string name, IdentityKey key, byte[] input, string half) => Obj(
        ("name", name),
        ("name_utf8", Encoding.UTF8.GetBytes(name)),
        ("signing_seed", random.Get($"{party}.identity.signing_seed")),
        ("signing_public", key.SigningKey.ToArray()),
        ("hash_input", input),
        ("digits", half));

    /// <summary>§7: h = SHA-512(0x0000 || key || name || key); 5199 more times h = SHA-512(h || key); six 5-byte big-endian chunks mod 100000.</summary>
    private static (byte[] Input, string Digits) SafetyHalf(string name, byte[] key)
    {
        var input = Concat([0, 0], key, Encoding.UTF8.GetBytes(name), key);
        var hash = System.Security.Cryptography.SHA512.HashData(input);
        for (var i = 1; i < SafetyNumber.Iterations; i++)
        {
            hash = System.Security.Cryptography.SHA512.HashData(Concat(hash, key));
        }

        var digits = new StringBuilder();
        for (var chunk = 0; chunk < 6; chunk++)
        {
            ulong value = 0;
            for (var b = 0; b < 5; b++)
            {
                value = (value << 8) | hash[(chunk * 5) + b];
            }

            digits.Append((value % 100000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture));
        }

        return (input, digits.ToString());
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"vector generator: library and spec disagree on {what}");
        }
    }
}
