using System.Security.Cryptography;
using Parley.Protocol.Primitives;

namespace Parley.Bench;

/// <summary>
/// The ceiling: only the primitive calls Parley makes per message, through the same primitive
/// code Parley uses, with no serialization, protobuf, state copies or allocation around them.
/// One-way message: 1 AES-256-GCM seal + 1 open of 256 bytes (AD = identities, version and the
/// 40-byte header) and 4 HMAC-SHA256 (KDF_CK: 2 per side). A ping-pong message adds, on the
/// receiving side, one DH ratchet step: 1 X25519 key generation, 2 agreements and 2 HKDF (KDF_RK).
/// </summary>
internal sealed record PrimitiveCeiling(
    double OneWayPerSecond,
    double PingPongPerSecond,
    double AeadPairMicroseconds,
    double HmacMicroseconds,
    double HkdfMicroseconds,
    double KeyGenerationMicroseconds,
    double AgreementMicroseconds)
{
    private const int AssociatedDataBytes = 2 * 64 + 1 + 40;

    internal static PrimitiveCeiling Measure(double seconds)
    {
        var warmup = 0.5;
        var part = Math.Max(0.2, seconds / 4);

        var plaintext = RandomNumberGenerator.GetBytes(ProtocolWorkload.MessageBytes);
        var associatedData = RandomNumberGenerator.GetBytes(AssociatedDataBytes);
        var ciphertext = new byte[plaintext.Length + Aead.TagSize];
        var opened = new byte[plaintext.Length];
        var nonce = new byte[Aead.NonceSize];
        var chainKey = RandomNumberGenerator.GetBytes(32);
        var messageKey = new byte[32];
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var kdfOutput = new byte[64];
        var info = "Parley_Ratchet_RootChain_v1"u8.ToArray();
        var ownPrivate = new byte[32];
        var ownPublic = new byte[32];
        var peerPrivate = new byte[32];
        var peerPublic = new byte[32];
        var shared = new byte[32];
        X25519.GenerateKeyPair(peerPrivate, peerPublic);
        X25519.GenerateKeyPair(ownPrivate, ownPublic);

        void OneWay()
        {
            // Sender: KDF_CK (2 HMAC), seal. Receiver: KDF_CK (2 HMAC), open.
            Hmac.Sha256(chainKey, [0x01], messageKey);
            Hmac.Sha256(chainKey, [0x02], chainKey);
            Aead.Encrypt(messageKey, nonce, plaintext, associatedData, ciphertext);
            Hmac.Sha256(chainKey, [0x01], messageKey);
            Hmac.Sha256(chainKey, [0x02], chainKey);
            _ = Aead.TryDecrypt(messageKey, nonce, ciphertext, associatedData, opened);
        }

        void RatchetStep()
        {
            // DHRatchet on the receiving side: DH, KDF_RK, new key pair, DH, KDF_RK.
            _ = X25519.TryAgree(ownPrivate, peerPublic, shared);
            Hkdf.Sha256(shared, rootKey, info, kdfOutput);
            X25519.GenerateKeyPair(ownPrivate, ownPublic);
            _ = X25519.TryAgree(ownPrivate, peerPublic, shared);
            Hkdf.Sha256(shared, rootKey, info, kdfOutput);
        }

        var oneWay = TimedLoop.WarmThenRun(warmup, part, iteration => OneWay());
        var pingPong = TimedLoop.WarmThenRun(warmup, part, iteration =>
        {
            OneWay();
            RatchetStep();
        });

        // The parts, for the table.
        var aead = TimedLoop.Run(part / 4, iteration =>
        {
            Aead.Encrypt(messageKey, nonce, plaintext, associatedData, ciphertext);
            _ = Aead.TryDecrypt(messageKey, nonce, ciphertext, associatedData, opened);
        });
        var hmac = TimedLoop.Run(part / 4, iteration => Hmac.Sha256(chainKey, [0x01], messageKey));
        var hkdf = TimedLoop.Run(part / 4, iteration => Hkdf.Sha256(shared, rootKey, info, kdfOutput));
        var keyGeneration = TimedLoop.Run(part / 4, iteration => X25519.GenerateKeyPair(ownPrivate, ownPublic));
        var agreement = TimedLoop.Run(part / 4, iteration => _ = X25519.TryAgree(ownPrivate, peerPublic, shared));
        return new PrimitiveCeiling(oneWay, pingPong, 1e6 / aead, 1e6 / hmac, 1e6 / hkdf, 1e6 / keyGeneration, 1e6 / agreement);
    }
}
