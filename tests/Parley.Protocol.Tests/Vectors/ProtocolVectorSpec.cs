using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.Tests.Vectors;

/// <summary>
/// The protocol's formulas written out plainly with the primitives, in the order docs/protocol.md
/// gives them, so that the vector generator computes every intermediate value itself and checks
/// that the library (which does not expose them) arrived at the same bytes.
/// </summary>
internal static class ProtocolVectorSpec
{
    /// <summary>docs/protocol.md §2: the labels, as the spec spells them.</summary>
    internal static readonly byte[] IdentityDhLabel = Encoding.ASCII.GetBytes("parley-identity-dh-v1");

    internal static readonly byte[] SignedPreKeyLabel = Encoding.ASCII.GetBytes("parley-spk-v1");

    internal static readonly byte[] KemPreKeyLabel = Encoding.ASCII.GetBytes("parley-kem-v1");

    internal static readonly byte[] PqxdhInfo = Encoding.ASCII.GetBytes("Parley_PQXDH_X25519_SHA-256_ML-KEM-768");

    internal static readonly byte[] RootChainInfo = Encoding.ASCII.GetBytes("Parley_Ratchet_RootChain_v1");

    /// <summary>PQXDH §2.2: F is 32 bytes of 0xFF for X25519.</summary>
    internal static byte[] PqxdhPrefix => Enumerable.Repeat((byte)0xFF, 32).ToArray();

    /// <summary>PQXDH §2.2: the HKDF salt is a zero-filled hash-length byte string.</summary>
    internal static byte[] PqxdhSalt => new byte[32];

    /// <summary>docs/protocol.md §6.2: the constant AES-GCM nonce.</summary>
    internal static byte[] Nonce => new byte[12];

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    internal static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }

        return result;
    }

    internal static byte[] X25519Public(byte[] privateKey)
    {
        var publicKey = new byte[32];
        X25519.PublicKeyFromPrivate(privateKey, publicKey);
        return publicKey;
    }

    internal static byte[] Dh(byte[] privateKey, ReadOnlySpan<byte> publicKey)
    {
        var shared = new byte[32];
        if (!X25519.TryAgree(privateKey, publicKey, shared))
        {
            throw new InvalidOperationException("low-order point in a vector");
        }

        return shared;
    }

    internal static byte[] Ed25519Public(byte[] seed)
    {
        using var key = Ed25519.Import(seed);
        return Ed25519.PublicKeyOf(key);
    }

    internal static byte[] Ed25519Sign(byte[] seed, byte[] message)
    {
        using var key = Ed25519.Import(seed);
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(key, message, signature);
        return signature;
    }

    /// <summary>§3: "parley-identity-dh-v1" || DH key.</summary>
    internal static byte[] IdentityDhSignatureInput(byte[] dhPublic) => Concat(IdentityDhLabel, dhPublic);

    /// <summary>§4: "parley-spk-v1" || id (u32 BE) || public key.</summary>
    internal static byte[] SignedPreKeySignatureInput(uint id, byte[] publicKey) => Concat(SignedPreKeyLabel, U32(id), publicKey);

    /// <summary>§4: "parley-kem-v1" || id (u32 BE) || last_resort (0x00/0x01) || public key.</summary>
    internal static byte[] KemPreKeySignatureInput(uint id, bool lastResort, byte[] publicKey) =>
        Concat(KemPreKeyLabel, U32(id), [lastResort ? (byte)1 : (byte)0], publicKey);

    /// <summary>§5: SK = HKDF-SHA256(salt = 0^32, ikm, info = PQXDH info, L = 32).</summary>
    internal static byte[] PqxdhSecret(byte[] keyMaterial)
    {
        var secret = new byte[32];
        Hkdf.Sha256(keyMaterial, PqxdhSalt, PqxdhInfo, secret);
        return secret;
    }

    /// <summary>§6.1 KDF_RK: HKDF-SHA256(salt = rk, ikm = dh, info, L = 64) split as rk' || ck.</summary>
    internal static (byte[] RootKey, byte[] ChainKey) KdfRk(byte[] rootKey, byte[] dh)
    {
        var output = new byte[64];
        Hkdf.Sha256(dh, rootKey, RootChainInfo, output);
        return (output[..32], output[32..]);
    }

    /// <summary>§6.1 KDF_CK: mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02).</summary>
    internal static (byte[] MessageKey, byte[] ChainKey) KdfCk(byte[] chainKey)
    {
        var messageKey = new byte[32];
        var next = new byte[32];
        Hmac.Sha256(chainKey, [0x01], messageKey);
        Hmac.Sha256(chainKey, [0x02], next);
        return (messageKey, next);
    }

    /// <summary>§6.1: dh (32) || pn (u32 BE) || n (u32 BE).</summary>
    internal static byte[] Header(byte[] ratchetPublic, uint previousCounter, uint counter) => Concat(ratchetPublic, U32(previousCounter), U32(counter));

    /// <summary>§6.2: AES-256-GCM, key = mk, nonce = 12 zero bytes; ciphertext || tag.</summary>
    internal static byte[] Seal(byte[] messageKey, byte[] associatedData, byte[] plaintext)
    {
        var output = new byte[plaintext.Length + Aead.TagSize];
        Aead.Encrypt(messageKey, Nonce, plaintext, associatedData, output);
        return output;
    }

    internal static byte[]? Open(byte[] messageKey, byte[] associatedData, ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.Length < Aead.TagSize)
        {
            return null;
        }

        var output = new byte[ciphertext.Length - Aead.TagSize];
        return Aead.TryDecrypt(messageKey, Nonce, ciphertext, associatedData, output) ? output : null;
    }

    internal static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>A JSON object from (name, value) pairs in the given order; byte arrays become hex.</summary>
    internal static JsonObject Obj(params (string Name, object? Value)[] members)
    {
        var result = new JsonObject();
        foreach (var (name, value) in members)
        {
            result[name] = value switch
            {
                null => null,
                byte[] bytes => JsonValue.Create(Hex(bytes)),
                JsonNode node => node,
                string text => JsonValue.Create(text),
                bool flag => JsonValue.Create(flag),
                int number => JsonValue.Create(number),
                uint number => JsonValue.Create(number),
                _ => throw new ArgumentException($"unsupported JSON value for {name}"),
            };
        }

        return result;
    }
}
