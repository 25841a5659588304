using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Utilities;
using Parley.Protocol.Primitives;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Parley.Protocol.Pake;

/// <summary>
/// The group of SPAKE2-P256-SHA256-HKDF-HMAC (RFC 9382 §6): NIST P-256 with its generator P, prime
/// order p and cofactor h = 1, the RFC's fixed points M and N, and the SEC1 uncompressed encoding
/// that the RFC's test vectors use (65 bytes, 0x04 || x || y). Point arithmetic is BouncyCastle's
/// (its custom secp256r1 field); multiples of the fixed points P, M and N use its fixed-point comb,
/// whose table look-ups are cache-safe, so the password scalar w is never used by a multiplier
/// whose timing depends on its bits' pattern.
/// </summary>
internal static class Spake2Group
{
    /// <summary>Size of an encoded group element: SEC1 uncompressed (RFC 9382 §6, Appendix B).</summary>
    internal const int ElementSize = 65;

    /// <summary>Size of a scalar, and of w as the transcript encodes it (big-endian, padded to the length of p; RFC 9382 §3.3).</summary>
    internal const int ScalarSize = 32;

    /// <summary>The SEC1 prefix of an uncompressed point.</summary>
    internal const byte UncompressedPrefix = 0x04;

    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256r1");

    private static readonly FixedPointCombMultiplier FixedBase = new();

    /// <summary>M for P-256 (RFC 9382 §6), seed "1.2.840.10045.3.1.7 point generation seed (M)".</summary>
    internal static readonly ECPoint M = DecodeConstant("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f");

    /// <summary>N for P-256 (RFC 9382 §6), seed "1.2.840.10045.3.1.7 point generation seed (N)".</summary>
    internal static readonly ECPoint N = DecodeConstant("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49");

    /// <summary>The generator P of P-256.</summary>
    internal static ECPoint Generator => Curve.G;

    /// <summary>The prime order p of P-256 (RFC 9382 calls it p; SEC 2 calls it n).</summary>
    internal static BigInteger Order => Curve.N;

    /// <summary>k·B for one of the fixed points P, M, N, with k in [0, p).</summary>
    internal static ECPoint MultiplyFixed(ECPoint fixedPoint, BigInteger k) =>
        k.SignValue == 0 ? Curve.Curve.Infinity : FixedBase.Multiply(fixedPoint, k);

    /// <summary>The SEC1 uncompressed encoding of a point other than the identity.</summary>
    internal static byte[] Encode(ECPoint point) => point.Normalize().GetEncoded(false);

    /// <summary>
    /// Reads a peer's element (RFC 9382 §7: "an endpoint MUST abort the protocol if any received
    /// public value is not a member of G"): exactly 65 bytes, prefix 0x04, coordinates below the
    /// field prime, on the curve, and not the identity. With h = 1 every such point is in the
    /// prime-order group.
    /// </summary>
    internal static bool TryDecodeElement(ReadOnlySpan<byte> encoded, out ECPoint point)
    {
        point = Curve.Curve.Infinity;
        if (encoded.Length != ElementSize || encoded[0] != UncompressedPrefix)
        {
            return false;
        }

        ECPoint decoded;
        try
        {
            // DecodePoint rejects coordinates ≥ the field prime and points that are not on the curve.
            decoded = Curve.Curve.DecodePoint(encoded.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }

        if (decoded.IsInfinity || !decoded.IsValid())
        {
            return false;
        }

        point = decoded;
        return true;
    }

    /// <summary>A scalar drawn uniformly from [1, p) by rejection sampling (RFC 9382 §7 recommends rejection sampling).</summary>
    internal static BigInteger RandomScalar()
    {
        Span<byte> candidate = stackalloc byte[ScalarSize];
        try
        {
            while (true)
            {
                RandomSource.Fill(candidate);
                var k = new BigInteger(1, candidate);
                if (k.SignValue > 0 && k.CompareTo(Order) < 0)
                {
                    return k;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(candidate);
        }
    }

    /// <summary>Whether <paramref name="k"/> is in [<paramref name="minimum"/>, p).</summary>
    internal static bool IsScalar(BigInteger k, int minimum) =>
        k.CompareTo(BigInteger.ValueOf(minimum)) >= 0 && k.CompareTo(Order) < 0;

    /// <summary>A scalar as 32 big-endian bytes.</summary>
    internal static byte[] EncodeScalar(BigInteger k) => BigIntegers.AsUnsignedByteArray(ScalarSize, k);

    private static ECPoint DecodeConstant(string hex)
    {
        var point = Curve.Curve.DecodePoint(Convert.FromHexString(hex));
        if (point.IsInfinity || !point.IsValid())
        {
            throw new InvalidOperationException("a SPAKE2 constant is not a point of P-256");
        }

        return point;
    }
}
