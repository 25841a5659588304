using System.Security.Cryptography;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Session;

/// <summary>
/// The PQXDH key agreement (Signal, revision 3, §3.3–3.4) with X25519, SHA-256 and ML-KEM-768:
/// SK = HKDF(salt = 32 zero bytes, ikm = F || DH1 || DH2 || DH3 [|| DH4] || SS, info), where F is
/// 32 bytes of 0xFF (§2.2 KDF).
/// </summary>
internal static class Pqxdh
{
    internal const int SharedSecretSize = 32;

    private const int MaxKeyMaterial = X25519.KeySize * 5 + MlKem768.SharedSecretSize;

    /// <summary>The initiator's side: DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B).</summary>
    internal static byte[] DeriveInitiator(
        ReadOnlySpan<byte> identityPrivate,
        ReadOnlySpan<byte> ephemeralPrivate,
        ReadOnlySpan<byte> peerIdentityKey,
        ReadOnlySpan<byte> peerSignedPreKey,
        ReadOnlySpan<byte> peerOneTimePreKey,
        ReadOnlySpan<byte> kemSharedSecret)
    {
        Span<byte> material = stackalloc byte[MaxKeyMaterial];
        try
        {
            var length = X25519.KeySize;
            material[..length].Fill(0xFF);
            length += Agree(identityPrivate, peerSignedPreKey, material[length..], "signed prekey");
            length += Agree(ephemeralPrivate, peerIdentityKey, material[length..], "identity key");
            length += Agree(ephemeralPrivate, peerSignedPreKey, material[length..], "signed prekey");
            if (!peerOneTimePreKey.IsEmpty)
            {
                length += Agree(ephemeralPrivate, peerOneTimePreKey, material[length..], "one-time prekey");
            }

            kemSharedSecret.CopyTo(material[length..]);
            length += kemSharedSecret.Length;
            return Derive(material[..length]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>The responder's side: the same four DH values from the other halves, and SS from decapsulation.</summary>
    internal static byte[] DeriveResponder(
        ReadOnlySpan<byte> identityPrivate,
        ReadOnlySpan<byte> signedPreKeyPrivate,
        ReadOnlySpan<byte> oneTimePreKeyPrivate,
        ReadOnlySpan<byte> peerIdentityKey,
        ReadOnlySpan<byte> peerEphemeralKey,
        ReadOnlySpan<byte> kemSharedSecret)
    {
        Span<byte> material = stackalloc byte[MaxKeyMaterial];
        try
        {
            var length = X25519.KeySize;
            material[..length].Fill(0xFF);
            length += Agree(signedPreKeyPrivate, peerIdentityKey, material[length..], "identity key");
            length += Agree(identityPrivate, peerEphemeralKey, material[length..], "ephemeral key");
            length += Agree(signedPreKeyPrivate, peerEphemeralKey, material[length..], "ephemeral key");
            if (!oneTimePreKeyPrivate.IsEmpty)
            {
                length += Agree(oneTimePreKeyPrivate, peerEphemeralKey, material[length..], "ephemeral key");
            }

            kemSharedSecret.CopyTo(material[length..]);
            length += kemSharedSecret.Length;
            return Derive(material[..length]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private static int Agree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> destination, string what)
    {
        if (!X25519.TryAgree(privateKey, publicKey, destination[..X25519.KeySize]))
        {
            throw Error.InvalidKey(what);
        }

        return X25519.KeySize;
    }

    private static byte[] Derive(ReadOnlySpan<byte> keyMaterial)
    {
        var secret = new byte[SharedSecretSize];
        Span<byte> salt = stackalloc byte[32];
        salt.Clear();
        Hkdf.Sha256(keyMaterial, salt, Labels.Pqxdh, secret);
        return secret;
    }
}
