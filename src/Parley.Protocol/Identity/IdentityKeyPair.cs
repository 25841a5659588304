using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Internal.Stored;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Identity;

/// <summary>
/// A user's private identity: the Ed25519 signing key and the X25519 identity DH key. Dispose it
/// when done; the private bytes are zeroed. It never prints its secrets. Both private keys live in
/// arrays on the pinned object heap (never moved, so never copied by the GC), not in NSec's locked
/// memory, whose allocation cost more than the rest of <see cref="Generate"/> (docs/performance.md).
/// </summary>
public sealed class IdentityKeyPair : IDisposable
{
    private readonly Ed25519.SigningKey signingKey;
    private readonly byte[] dhPrivate;
    private bool disposed;

    private IdentityKeyPair(Ed25519.SigningKey signingKey, byte[] dhPrivate, IdentityKey publicKey)
    {
        this.signingKey = signingKey;
        this.dhPrivate = dhPrivate;
        PublicKey = publicKey;
    }

    /// <summary>The public half.</summary>
    public IdentityKey PublicKey { get; }

    /// <summary>Creates a fresh identity.</summary>
    public static IdentityKeyPair Generate()
    {
        var signing = Ed25519.Generate();
        var dhPrivate = GC.AllocateArray<byte>(X25519.KeySize, pinned: true);
        var dhPublic = new byte[X25519.KeySize];
        X25519.GenerateKeyPair(dhPrivate, dhPublic);
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(signing, IdentityKey.DhKeySignedMessage(dhPublic), signature);
        return new IdentityKeyPair(signing, dhPrivate, new IdentityKey(Ed25519.PublicKeyOf(signing), dhPublic, signature));
    }

    /// <summary>Restores an identity written by <see cref="Export"/>.</summary>
    public static IdentityKeyPair Import(ReadOnlySpan<byte> exported)
    {
        var stored = WireParsing.Parse(PrivateIdentity.Parser, exported, "private identity");
        if (stored.Version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion("private identity", stored.Version);
        }

        if (stored.SigningSeed.Length != Ed25519.SeedSize || stored.DhPrivate.Length != X25519.KeySize || stored.DhKeySignature.Length != Ed25519.SignatureSize)
        {
            throw Error.Malformed("private identity");
        }

        var signing = Ed25519.Import(stored.SigningSeed.Span);
        var dhPrivate = GC.AllocateArray<byte>(X25519.KeySize, pinned: true);
        stored.DhPrivate.Span.CopyTo(dhPrivate);
        var dhPublic = new byte[X25519.KeySize];
        X25519.PublicKeyFromPrivate(dhPrivate, dhPublic);
        var publicKey = new IdentityKey(Ed25519.PublicKeyOf(signing), dhPublic, stored.DhKeySignature.ToByteArray());
        if (!publicKey.VerifyDhKeySignature())
        {
            signing.Dispose();
            CryptographicOperations.ZeroMemory(dhPrivate);
            throw Error.InvalidSignature("identity DH key");
        }

        return new IdentityKeyPair(signing, dhPrivate, publicKey);
    }

    /// <summary>
    /// The private identity as bytes, for the profile store to seal. The caller owns the secret
    /// bytes and should zero them when written.
    /// </summary>
    public byte[] Export()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var seed = Ed25519.ExportSeed(signingKey);
        try
        {
            return new PrivateIdentity
            {
                Version = ProtocolVersion.Current,
                SigningSeed = ByteString.CopyFrom(seed),
                DhPrivate = ByteString.CopyFrom(dhPrivate),
                DhKeySignature = ByteString.CopyFrom(PublicKey.DhKeySignature),
            }.ToByteArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Signs <paramref name="data"/> with the identity signing key (64-byte Ed25519 signature).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(signingKey, data, signature);
        return signature;
    }

    internal ReadOnlySpan<byte> DhPrivate
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return dhPrivate;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            signingKey.Dispose();
            CryptographicOperations.ZeroMemory(dhPrivate);
        }
    }

    /// <summary>Shows only the public fingerprint.</summary>
    public override string ToString() => $"IdentityKeyPair({PublicKey.Fingerprint})";
}
