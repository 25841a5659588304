using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Identity;

/// <summary>
/// A user's public identity: the Ed25519 signing key that the CA certifies, and the X25519 key
/// used in PQXDH, signed by it. Two identities are equal when their keys are.
/// </summary>
public sealed class IdentityKey : IEquatable<IdentityKey>
{
    /// <summary>Size of <see cref="Encode"/>'s output: signing key || DH key.</summary>
    public const int EncodedSize = 64;

    private readonly byte[] signingKey;
    private readonly byte[] dhKey;
    private readonly byte[] dhKeySignature;

    internal IdentityKey(byte[] signingKey, byte[] dhKey, byte[] dhKeySignature)
    {
        this.signingKey = signingKey;
        this.dhKey = dhKey;
        this.dhKeySignature = dhKeySignature;
    }

    /// <summary>The 32-byte Ed25519 public key (the key in the user's certificate).</summary>
    public ReadOnlySpan<byte> SigningKey => signingKey;

    /// <summary>The 32-byte X25519 public key.</summary>
    public ReadOnlySpan<byte> DhKey => dhKey;

    /// <summary>The Ed25519 signature over the DH key.</summary>
    public ReadOnlySpan<byte> DhKeySignature => dhKeySignature;

    /// <summary>SHA-256 of the signing key, lowercase hex: what `parley whoami` shows.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(signingKey));

    /// <summary>
    /// Reads an identity from the wire and checks that its signing key signed its DH key.
    /// Throws <see cref="ParleyProtocolException"/> (Malformed, InvalidSignature) otherwise.
    /// </summary>
    public static IdentityKey FromWire(PublicIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (identity.SigningKey.Length != Ed25519.PublicKeySize
            || identity.DhKey.Length != X25519.KeySize
            || identity.DhKeySignature.Length != Ed25519.SignatureSize)
        {
            throw Error.Malformed("identity key");
        }

        var key = new IdentityKey(identity.SigningKey.ToByteArray(), identity.DhKey.ToByteArray(), identity.DhKeySignature.ToByteArray());
        if (!key.VerifyDhKeySignature())
        {
            throw Error.InvalidSignature("identity DH key");
        }

        return key;
    }

    /// <summary>
    /// Reads an identity from the client's own sealed state, where it was verified when first
    /// seen; only the lengths are checked, so restoring a session per message stays cheap.
    /// </summary>
    internal static IdentityKey FromStoredWire(PublicIdentity identity)
    {
        if (identity is null
            || identity.SigningKey.Length != Ed25519.PublicKeySize
            || identity.DhKey.Length != X25519.KeySize
            || identity.DhKeySignature.Length != Ed25519.SignatureSize)
        {
            throw Error.Malformed("stored identity key");
        }

        return new IdentityKey(identity.SigningKey.ToByteArray(), identity.DhKey.ToByteArray(), identity.DhKeySignature.ToByteArray());
    }

    /// <summary>True when <paramref name="identity"/> carries exactly this identity's keys and DH-key signature.</summary>
    internal bool IsEncodedIn(PublicIdentity identity) =>
        identity.SigningKey.Span.SequenceEqual(signingKey)
        && identity.DhKey.Span.SequenceEqual(dhKey)
        && identity.DhKeySignature.Span.SequenceEqual(dhKeySignature);

    /// <summary>The wire form.</summary>
    public PublicIdentity ToWire() => new()
    {
        SigningKey = ByteString.CopyFrom(signingKey),
        DhKey = ByteString.CopyFrom(dhKey),
        DhKeySignature = ByteString.CopyFrom(dhKeySignature),
    };

    /// <summary>Encode(IK) of docs/protocol.md §3: signing key || DH key, 64 bytes.</summary>
    public byte[] Encode()
    {
        var encoded = new byte[EncodedSize];
        signingKey.CopyTo(encoded, 0);
        dhKey.CopyTo(encoded, 32);
        return encoded;
    }

    /// <summary>Checks an Ed25519 signature made by this identity's signing key.</summary>
    public bool Verify(ReadOnlySpan<byte> signedMessage, ReadOnlySpan<byte> signature) =>
        Ed25519.Verify(signingKey, signedMessage, signature);

    internal bool VerifyDhKeySignature() => Verify(DhKeySignedMessage(dhKey), dhKeySignature);

    /// <summary>"parley-identity-dh-v1" || DH key (docs/protocol.md §3).</summary>
    internal static byte[] DhKeySignedMessage(ReadOnlySpan<byte> dhKey)
    {
        var message = new byte[Labels.IdentityDhKey.Length + dhKey.Length];
        Labels.IdentityDhKey.CopyTo(message);
        dhKey.CopyTo(message.AsSpan(Labels.IdentityDhKey.Length));
        return message;
    }

    /// <inheritdoc/>
    public bool Equals(IdentityKey? other) =>
        other is not null && signingKey.AsSpan().SequenceEqual(other.signingKey) && dhKey.AsSpan().SequenceEqual(other.dhKey);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as IdentityKey);

    /// <inheritdoc/>
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(signingKey);

    /// <summary>The fingerprint; public keys only, so safe to show.</summary>
    public override string ToString() => $"IdentityKey({Fingerprint})";
}
