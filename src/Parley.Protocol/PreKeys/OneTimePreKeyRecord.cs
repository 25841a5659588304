using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.PreKeys;

/// <summary>A one-time X25519 prekey with its private half (PQXDH §3.1: OPK_B). Used at most once.</summary>
public sealed class OneTimePreKeyRecord
{
    private readonly byte[] privateKey;
    private readonly byte[] publicKey;

    private OneTimePreKeyRecord(uint id, byte[] privateKey, byte[] publicKey)
    {
        Id = id;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /// <summary>The identifier the initiator names in its PreKeyMessage.</summary>
    public uint Id { get; }

    /// <summary>The 32-byte X25519 public key.</summary>
    public ReadOnlySpan<byte> PublicKey => publicKey;

    internal ReadOnlySpan<byte> PrivateKey => privateKey;

    /// <summary>Makes a new one-time prekey.</summary>
    public static OneTimePreKeyRecord Generate(uint id)
    {
        var privateKey = new byte[X25519.KeySize];
        var publicKey = new byte[X25519.KeySize];
        X25519.GenerateKeyPair(privateKey, publicKey);
        return new OneTimePreKeyRecord(id, privateKey, publicKey);
    }

    /// <summary>The public half for the directory.</summary>
    public Wire.OneTimePreKey ToWire() => new() { Id = Id, PublicKey = ByteString.CopyFrom(publicKey) };

    /// <summary>Serializes the record, private key included, for the owner's store to seal.</summary>
    public byte[] Serialize() => new Internal.Stored.OneTimePreKeyRecord
    {
        Id = Id,
        PublicKey = ByteString.CopyFrom(publicKey),
        PrivateKey = ByteString.CopyFrom(privateKey),
    }.ToByteArray();

    /// <summary>Reads what <see cref="Serialize"/> wrote.</summary>
    public static OneTimePreKeyRecord Deserialize(ReadOnlySpan<byte> bytes)
    {
        var stored = WireParsing.Parse(Internal.Stored.OneTimePreKeyRecord.Parser, bytes, "one-time prekey record");
        if (stored.PublicKey.Length != X25519.KeySize || stored.PrivateKey.Length != X25519.KeySize)
        {
            throw Error.Malformed("one-time prekey record");
        }

        return new OneTimePreKeyRecord(stored.Id, stored.PrivateKey.ToByteArray(), stored.PublicKey.ToByteArray());
    }

    /// <summary>Zeroes the private key; the record is unusable afterwards.</summary>
    public void Erase() => CryptographicOperations.ZeroMemory(privateKey);

    /// <summary>Shows the id only.</summary>
    public override string ToString() => $"OneTimePreKey({Id})";
}
