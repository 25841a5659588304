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
internal sealed class PrimitiveCeiling
{
    private const int AssociatedDataBytes = 2 * 64 + 1 + 40;
    private static readonly byte[] Info = "Parley_Ratchet_RootChain_v1"u8.ToArray();

    private readonly byte[] plaintext = RandomNumberGenerator.GetBytes(ProtocolWorkload.MessageBytes);
    private readonly byte[] associatedData = RandomNumberGenerator.GetBytes(AssociatedDataBytes);
    private readonly byte[] ciphertext = new byte[ProtocolWorkload.MessageBytes + Aead.TagSize];
    private readonly byte[] opened = new byte[ProtocolWorkload.MessageBytes];
    private readonly byte[] nonce = new byte[Aead.NonceSize];
    private readonly byte[] chainKey = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] messageKey = new byte[32];
    private readonly byte[] rootKey = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] kdfOutput = new byte[64];
    private readonly byte[] ownPrivate = new byte[32];
    private readonly byte[] ownPublic = new byte[32];
    private readonly byte[] peerPublic = new byte[32];
    private readonly byte[] shared = new byte[32];

    internal PrimitiveCeiling()
    {
        X25519.GenerateKeyPair(new byte[32], peerPublic);
        X25519.GenerateKeyPair(ownPrivate, ownPublic);
    }

    /// <summary>Sender: KDF_CK (2 HMAC), seal. Receiver: KDF_CK (2 HMAC), open.</summary>
    internal void OneWay(long iteration)
    {
        Hmac.Sha256(chainKey, [0x01], messageKey);
        Hmac.Sha256(chainKey, [0x02], chainKey);
        Aead.Encrypt(messageKey, nonce, plaintext, associatedData, ciphertext);
        Hmac.Sha256(chainKey, [0x01], messageKey);
        Hmac.Sha256(chainKey, [0x02], chainKey);
        _ = Aead.TryDecrypt(messageKey, nonce, ciphertext, associatedData, opened);
    }

    /// <summary>A one-way message plus the receiver's DHRatchet: DH, KDF_RK, new key pair, DH, KDF_RK.</summary>
    internal void PingPong(long iteration)
    {
        OneWay(iteration);
        _ = X25519.TryAgree(ownPrivate, peerPublic, shared);
        Hkdf.Sha256(shared, rootKey, Info, kdfOutput);
        X25519.GenerateKeyPair(ownPrivate, ownPublic);
        _ = X25519.TryAgree(ownPrivate, peerPublic, shared);
        Hkdf.Sha256(shared, rootKey, Info, kdfOutput);
    }

    /// <summary>Each part alone, in microseconds, for the table.</summary>
    internal CeilingParts MeasureParts(double seconds)
    {
        var each = seconds / 5;
        double Microseconds(Action<long> op) => 1e6 / TimedLoop.WarmThenRun(each / 4, each, op);
        return new CeilingParts(
            Microseconds(call =>
            {
                Aead.Encrypt(messageKey, nonce, plaintext, associatedData, ciphertext);
                _ = Aead.TryDecrypt(messageKey, nonce, ciphertext, associatedData, opened);
            }),
            Microseconds(call => Hmac.Sha256(chainKey, [0x01], messageKey)),
            Microseconds(call => Hkdf.Sha256(shared, rootKey, Info, kdfOutput)),
            Microseconds(call => X25519.GenerateKeyPair(ownPrivate, ownPublic)),
            Microseconds(call => X25519.TryAgree(ownPrivate, peerPublic, shared)));
    }
}

/// <summary>Microseconds per call of each primitive in the ceiling.</summary>
internal sealed record CeilingParts(double AeadPair, double Hmac, double Hkdf, double KeyGeneration, double Agreement);
