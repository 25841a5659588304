using System.Formats.Asn1;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Parley.Protocol.Certificates;

/// <summary>
/// The SIGNED{} pattern that certificates and revocation lists share (RFC 5280 4.1.1, 5.1.1):
/// SEQUENCE { toBeSigned, signatureAlgorithm, signatureValue }, signed with Ed25519 (RFC 8410).
/// </summary>
/// <remarks>
/// The signature is checked over the to-be-signed bytes exactly as they appear in the input, not
/// over a re-encoding of the parsed structure: a re-encoding would canonicalise a changed byte
/// (a BER boolean, say) back to the signed form and let the change through.
/// </remarks>
internal static class SignedStructure
{
    /// <summary>Length of an Ed25519 signature (RFC 8032 5.1.6).</summary>
    private const int Ed25519SignatureBytes = 64;

    /// <summary>The raw bytes of the first element (the to-be-signed part) of a DER SEQUENCE with nothing after it.</summary>
    /// <exception cref="AsnContentException">The bytes are not one DER SEQUENCE.</exception>
    internal static ReadOnlyMemory<byte> ToBeSigned(byte[] der)
    {
        var reader = new AsnReader(der, AsnEncodingRules.DER);
        AsnReader outer = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        return outer.ReadEncodedValue();
    }

    /// <summary>
    /// Whether both algorithm identifiers name Ed25519 with absent parameters (RFC 8410 3) and
    /// agree, as RFC 5280 4.1.1.2 requires.
    /// </summary>
    internal static bool IsEd25519(AlgorithmIdentifier outer, AlgorithmIdentifier inner) =>
        IsEd25519(outer) && IsEd25519(inner);

    /// <summary>Whether an algorithm identifier names Ed25519 with absent parameters (RFC 8410 3).</summary>
    internal static bool IsEd25519(AlgorithmIdentifier algorithm) =>
        EdECObjectIdentifiers.id_Ed25519.Equals(algorithm.Algorithm) && algorithm.Parameters is null;

    /// <summary>Whether <paramref name="signature"/> is a valid Ed25519 signature by <paramref name="key"/> over <paramref name="toBeSigned"/>.</summary>
    internal static bool Verify(ReadOnlySpan<byte> toBeSigned, DerBitString signature, Ed25519PublicKeyParameters key)
    {
        if (signature.PadBits != 0)
        {
            return false;
        }

        byte[] value = signature.GetOctets();
        if (value.Length != Ed25519SignatureBytes)
        {
            return false;
        }

        var verifier = new Ed25519Signer();
        verifier.Init(false, key);
        verifier.BlockUpdate(toBeSigned);
        return verifier.VerifySignature(value);
    }
}
