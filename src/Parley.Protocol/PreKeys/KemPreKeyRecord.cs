using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Identity;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.PreKeys;

/// <summary>
/// A signed ML-KEM-768 prekey with its decapsulation key (PQXDH §3.1: PQSPK_B or PQOPK_B). A
/// last-resort key is used when no one-time KEM key is left and is never deleted on use.
/// </summary>
public sealed class KemPreKeyRecord
{
    private readonly byte[] secretKey;
    private readonly byte[] publicKey;
    private readonly byte[] signature;

    private KemPreKeyRecord(uint id, byte[] secretKey, byte[] publicKey, bool lastResort, byte[] signature, DateTimeOffset created)
    {
        Id = id;
        this.secretKey = secretKey;
        this.publicKey = publicKey;
        LastResort = lastResort;
        this.signature = signature;
        Created = created;
    }

    /// <summary>The identifier the initiator names in its PreKeyMessage.</summary>
    public uint Id { get; }

    /// <summary>True for the last-resort key, which stays after use.</summary>
    public bool LastResort { get; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>The 1184-byte ML-KEM-768 encapsulation key.</summary>
    public ReadOnlySpan<byte> PublicKey => publicKey;

    internal ReadOnlySpan<byte> SecretKey => secretKey;

    /// <summary>Makes a new KEM prekey, signed by <paramref name="identity"/>.</summary>
    public static KemPreKeyRecord Generate(IdentityKeyPair identity, uint id, bool lastResort, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var (publicKey, secretKey) = MlKem768.GenerateKeyPair();
        var signature = identity.Sign(SignedMessage(id, lastResort, publicKey));
        return new KemPreKeyRecord(id, secretKey, publicKey, lastResort, signature, created);
    }

    /// <summary>The public half for a prekey bundle.</summary>
    public Wire.KemPreKey ToWire() => new()
    {
        Id = Id,
        PublicKey = ByteString.CopyFrom(publicKey),
        LastResort = LastResort,
        Signature = ByteString.CopyFrom(signature),
    };

    /// <summary>Serializes the record, secret key included, for the owner's store to seal.</summary>
    public byte[] Serialize() => new Internal.Stored.KemPreKeyRecord
    {
        Id = Id,
        PublicKey = ByteString.CopyFrom(publicKey),
        SecretKey = ByteString.CopyFrom(secretKey),
        LastResort = LastResort,
        Signature = ByteString.CopyFrom(signature),
        CreatedUnixSeconds = Created.ToUnixTimeSeconds(),
    }.ToByteArray();

    /// <summary>Reads what <see cref="Serialize"/> wrote.</summary>
    public static KemPreKeyRecord Deserialize(ReadOnlySpan<byte> bytes)
    {
        var stored = WireParsing.Parse(Internal.Stored.KemPreKeyRecord.Parser, bytes, "KEM prekey record");
        if (stored.PublicKey.Length != MlKem768.PublicKeySize || stored.SecretKey.Length != MlKem768.SecretKeySize || stored.Signature.Length != Ed25519.SignatureSize)
        {
            throw Error.Malformed("KEM prekey record");
        }

        return new KemPreKeyRecord(stored.Id, stored.SecretKey.ToByteArray(), stored.PublicKey.ToByteArray(), stored.LastResort, stored.Signature.ToByteArray(), DateTimeOffset.FromUnixTimeSeconds(stored.CreatedUnixSeconds));
    }

    /// <summary>Checks a KEM prekey from a bundle (or an upload) against the identity that should have signed it.</summary>
    public static bool Verify(IdentityKey identity, Wire.KemPreKey preKey) =>
        preKey.PublicKey.Length == MlKem768.PublicKeySize
        && identity.Verify(SignedMessage(preKey.Id, preKey.LastResort, preKey.PublicKey.Span), preKey.Signature.Span);

    /// <summary>"parley-kem-v1" || id (u32 BE) || last_resort (1 byte) || public key (docs/protocol.md §4).</summary>
    private static byte[] SignedMessage(uint id, bool lastResort, ReadOnlySpan<byte> publicKey)
    {
        var label = Wire.Labels.KemPreKey;
        var message = new byte[label.Length + 5 + publicKey.Length];
        label.CopyTo(message);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(label.Length), id);
        message[label.Length + 4] = lastResort ? (byte)1 : (byte)0;
        publicKey.CopyTo(message.AsSpan(label.Length + 5));
        return message;
    }

    /// <summary>Zeroes the secret key; the record is unusable afterwards.</summary>
    public void Erase() => CryptographicOperations.ZeroMemory(secretKey);

    /// <summary>Shows the id only.</summary>
    public override string ToString() => $"KemPreKey({Id}{(LastResort ? ", last resort" : string.Empty)})";
}
