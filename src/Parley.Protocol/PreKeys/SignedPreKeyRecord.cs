using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Identity;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.PreKeys;

/// <summary>
/// A signed X25519 prekey with its private half, as its owner stores it (PQXDH §3.1: SPK_B and
/// Sig(IK_B, Encode(SPK_B))). The public half goes to the directory through <see cref="ToWire"/>.
/// </summary>
public sealed class SignedPreKeyRecord
{
    private readonly byte[] privateKey;
    private readonly byte[] publicKey;
    private readonly byte[] signature;

    private SignedPreKeyRecord(uint id, byte[] privateKey, byte[] publicKey, byte[] signature, DateTimeOffset created)
    {
        Id = id;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.signature = signature;
        Created = created;
    }

    /// <summary>The identifier the initiator names in its PreKeyMessage.</summary>
    public uint Id { get; }

    /// <summary>When it was made; owners rotate signed prekeys periodically.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>The 32-byte X25519 public key.</summary>
    public ReadOnlySpan<byte> PublicKey => publicKey;

    internal ReadOnlySpan<byte> PrivateKey => privateKey;

    /// <summary>Makes a new signed prekey, signed by <paramref name="identity"/>.</summary>
    public static SignedPreKeyRecord Generate(IdentityKeyPair identity, uint id, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var privateKey = new byte[X25519.KeySize];
        var publicKey = new byte[X25519.KeySize];
        X25519.GenerateKeyPair(privateKey, publicKey);
        var signature = identity.Sign(SignedMessage(id, publicKey));
        return new SignedPreKeyRecord(id, privateKey, publicKey, signature, created);
    }

    /// <summary>The public half for a prekey bundle.</summary>
    public Wire.SignedPreKey ToWire() => new()
    {
        Id = Id,
        PublicKey = ByteString.CopyFrom(publicKey),
        Signature = ByteString.CopyFrom(signature),
    };

    /// <summary>Serializes the record, private key included, for the owner's store to seal.</summary>
    public byte[] Serialize() => new Internal.Stored.SignedPreKeyRecord
    {
        Id = Id,
        PublicKey = ByteString.CopyFrom(publicKey),
        PrivateKey = ByteString.CopyFrom(privateKey),
        Signature = ByteString.CopyFrom(signature),
        CreatedUnixSeconds = Created.ToUnixTimeSeconds(),
    }.ToByteArray();

    /// <summary>Reads what <see cref="Serialize"/> wrote.</summary>
    public static SignedPreKeyRecord Deserialize(ReadOnlySpan<byte> bytes)
    {
        var stored = WireParsing.Parse(Internal.Stored.SignedPreKeyRecord.Parser, bytes, "signed prekey record");
        if (stored.PublicKey.Length != X25519.KeySize || stored.PrivateKey.Length != X25519.KeySize || stored.Signature.Length != Ed25519.SignatureSize)
        {
            throw Error.Malformed("signed prekey record");
        }

        return new SignedPreKeyRecord(stored.Id, stored.PrivateKey.ToByteArray(), stored.PublicKey.ToByteArray(), stored.Signature.ToByteArray(), DateTimeOffset.FromUnixTimeSeconds(stored.CreatedUnixSeconds));
    }

    /// <summary>Checks a signed prekey from a bundle (or an upload) against the identity that should have signed it.</summary>
    public static bool Verify(IdentityKey identity, Wire.SignedPreKey preKey) =>
        preKey.PublicKey.Length == X25519.KeySize
        && identity.Verify(SignedMessage(preKey.Id, preKey.PublicKey.Span), preKey.Signature.Span);

    /// <summary>"parley-spk-v1" || id (u32 BE) || public key (docs/protocol.md §4).</summary>
    private static byte[] SignedMessage(uint id, ReadOnlySpan<byte> publicKey)
    {
        var label = Wire.Labels.SignedPreKey;
        var message = new byte[label.Length + 4 + publicKey.Length];
        label.CopyTo(message);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(label.Length), id);
        publicKey.CopyTo(message.AsSpan(label.Length + 4));
        return message;
    }

    /// <summary>Zeroes the private key; the record is unusable afterwards.</summary>
    public void Erase() => CryptographicOperations.ZeroMemory(privateKey);

    /// <summary>Shows the id only.</summary>
    public override string ToString() => $"SignedPreKey({Id})";
}
