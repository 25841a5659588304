using Google.Protobuf;
using Parley.Api;
using Parley.Protocol;
using Parley.Protocol.Certificates;
using Parley.Protocol.Identity;
using Parley.Protocol.Pake;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Parley.Fuzz;

/// <summary>
/// What the targets run against, made once per process: two parties with a session (as bytes, so
/// each input starts from the same state), a CA and one of its certificates, and a SPAKE2 password
/// scalar. <see cref="Seeds"/> writes valid inputs of every target for the fuzzer to start from.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<World> State = new(World.Create);

    internal static void DecryptMessage(ReadOnlySpan<byte> input)
    {
        var world = State.Value;
        var message = RatchetSession.ParseMessage(input);
        if (message.BodyCase == CiphertextMessage.BodyOneofCase.PreKey)
        {
            using var accepted = RatchetSession.Accept(world.Bob, message.PreKey, world.BobPreKeys.Copy(), out _);
            return;
        }

        using var session = RatchetSession.Deserialize(world.BobSession);
        session.Decrypt(message);
    }

    internal static void RestoreSession(ReadOnlySpan<byte> input)
    {
        using var session = RatchetSession.Deserialize(input);
        session.Encrypt("x"u8);
        session.Serialize();
    }

    internal static void StartFromBundle(ReadOnlySpan<byte> input)
    {
        PreKeyBundle bundle;
        try
        {
            bundle = PreKeyBundle.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException)
        {
            return;
        }

        using var session = RatchetSession.Initiate(State.Value.Alice, bundle);
        session.Encrypt("x"u8);
    }

    internal static void CheckCertificate(ReadOnlySpan<byte> input)
    {
        var world = State.Value;
        world.Validator.Validate(input, null, world.Now);
        world.Validator.Validate(FuzzTargets.Utf8(input), world.Revocations, world.Now);
        RevocationList.Parse(input, System.Text.Encoding.UTF8.GetBytes(world.CaPem));
    }

    internal static void FinishPake(ReadOnlySpan<byte> input)
    {
        var world = State.Value;
        using var party = Spake2Party.StartCore(Spake2Role.B, world.PakeW, Spake2Group.RandomScalar(), [], [], Spake2Party.AdditionalData);
        var share = input[..Math.Min(input.Length, Spake2Party.MessageSize)];
        party.Finish(share);
        party.VerifyPeerConfirmation(input[share.Length..]);
    }

    internal static void ParseInviteCode(ReadOnlySpan<byte> input)
    {
        var text = FuzzTargets.Utf8(input);
        if (InviteCode.TryParse(text, out var code) && !InviteCode.Parse(code.ToString()).Equals(code))
        {
            throw new InvalidOperationException($"invite code \"{text}\" does not survive a round trip");
        }
    }

    internal static void ParseApiMessages(ReadOnlySpan<byte> input)
    {
        foreach (var parser in ApiParsers)
        {
            try
            {
                var message = parser.ParseFrom(input);
                message.ToByteArray();
            }
            catch (InvalidProtocolBufferException)
            {
                // The generated code's documented refusal.
            }
        }
    }

    private static readonly MessageParser[] ApiParsers =
    [
        RegisterRequest.Parser, AuthenticateRequest.Parser, GetCertificateResponse.Parser, UploadPreKeysRequest.Parser,
        FetchBundleResponse.Parser, SendRequest.Parser, ReceiveRequest.Parser, ReceiveResponse.Parser, Envelope.Parser,
        GetRevocationListResponse.Parser, ListUsersResponse.Parser, CreateInviteResponse.Parser,
    ];

    /// <summary>A few valid inputs for <paramref name="target"/>: where the fuzzer starts.</summary>
    internal static IReadOnlyList<byte[]> Seeds(string target)
    {
        var world = State.Value;
        return target switch
        {
            "ratchet-message" => [world.FirstMessage, world.SecondMessage],
            "session-state" => [world.BobSession, world.AliceSession],
            "prekey-bundle" => [world.BobBundle.ToByteArray()],
            "certificate" => [System.Text.Encoding.UTF8.GetBytes(world.UserCertificatePem), world.UserCertificateDer],
            "pake" => [[.. world.PakePeer.Message, .. new byte[Spake2Party.ConfirmationSize]]],
            "invite-code" => [System.Text.Encoding.UTF8.GetBytes(InviteCode.Generate(42).ToString())],
            "api" => [new SendRequest { MessageId = ByteString.CopyFrom(new byte[16]), Recipient = "bob", Body = ByteString.CopyFrom(world.SecondMessage) }.ToByteArray(),
                      new ReceiveResponse { Envelope = new Envelope { MessageId = ByteString.CopyFrom(new byte[16]), Sender = "alice", Body = ByteString.CopyFrom(world.FirstMessage) } }.ToByteArray()],
            _ => throw new ArgumentException($"unknown fuzz target \"{target}\"", nameof(target)),
        };
    }

    private sealed class World
    {
        internal required IdentityKeyPair Alice { get; init; }
        internal required IdentityKeyPair Bob { get; init; }
        internal required PreKeyBundle BobBundle { get; init; }
        internal required PreKeySnapshot BobPreKeys { get; init; }
        internal required byte[] BobSession { get; init; }
        internal required byte[] AliceSession { get; init; }
        internal required byte[] FirstMessage { get; init; }
        internal required byte[] SecondMessage { get; init; }
        internal required CertificateValidator Validator { get; init; }
        internal required RevocationList Revocations { get; init; }
        internal required string CaPem { get; init; }
        internal required string UserCertificatePem { get; init; }
        internal required byte[] UserCertificateDer { get; init; }
        internal required BigInteger PakeW { get; init; }
        internal required Spake2Party PakePeer { get; init; }
        internal required DateTimeOffset Now { get; init; }

        internal static World Create()
        {
            var now = DateTimeOffset.UtcNow;
            var alice = IdentityKeyPair.Generate();
            var bob = IdentityKeyPair.Generate();
            var signed = SignedPreKeyRecord.Generate(bob, 1, now);
            var kem = KemPreKeyRecord.Generate(bob, 2, lastResort: true, now);
            var oneTime = OneTimePreKeyRecord.Generate(3);
            var bundle = new PreKeyBundle
            {
                Version = ProtocolVersion.Current,
                Identity = bob.PublicKey.ToWire(),
                SignedPreKey = signed.ToWire(),
                KemPreKey = kem.ToWire(),
                OneTimePreKey = oneTime.ToWire(),
            };
            var preKeys = new PreKeySnapshot(signed, kem, oneTime);

            using var aliceSession = RatchetSession.Initiate(alice, bundle);
            var first = aliceSession.Encrypt("first"u8);
            using var bobSession = RatchetSession.Accept(bob, RatchetSession.ParseMessage(first).PreKey, preKeys.Copy(), out _);
            var reply = bobSession.Encrypt("reply"u8);
            aliceSession.Decrypt(reply);
            var second = aliceSession.Encrypt("second"u8);

            using var authority = CertificateAuthority.Create("fuzz CA", now.AddMinutes(-1));
            var user = authority.IssueUserCertificate("alice", alice.PublicKey.SigningKey, now.AddMinutes(-1));
            var pakeW = new BigInteger(1, System.Security.Cryptography.SHA256.HashData("fuzz"u8)).Mod(Spake2Group.Order);
            return new World
            {
                Alice = alice,
                Bob = bob,
                BobBundle = bundle,
                BobPreKeys = preKeys,
                BobSession = bobSession.Serialize(),
                AliceSession = aliceSession.Serialize(),
                FirstMessage = first,
                SecondMessage = second,
                Validator = new CertificateValidator(authority.RootCertificatePem),
                Revocations = authority.CreateRevocationList([], now.AddMinutes(-1), TimeSpan.FromDays(1)),
                CaPem = authority.RootCertificatePem,
                UserCertificatePem = user.Pem,
                UserCertificateDer = user.Der.ToArray(),
                PakeW = pakeW,
                PakePeer = Spake2Party.StartCore(Spake2Role.A, pakeW, Spake2Group.RandomScalar(), [], [], Spake2Party.AdditionalData),
                Now = now,
            };
        }
    }

    /// <summary>Bob's private prekeys; each input gets a fresh store, as a consumed key would otherwise be gone for the next.</summary>
    private sealed record PreKeySnapshot(SignedPreKeyRecord Signed, KemPreKeyRecord Kem, OneTimePreKeyRecord OneTime)
    {
        internal InMemoryPreKeyStore Copy()
        {
            var store = new InMemoryPreKeyStore();
            store.Add(Signed);
            store.Add(Kem);
            store.Add(OneTime);
            return store;
        }
    }
}
