using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Parley.Protocol.Certificates;

/// <summary>
/// Certificate serial numbers (RFC 5280 4.1.2.2): random, positive, at most 20 octets, and
/// written as lowercase hex without leading zeros (the form <see cref="ToHex"/> produces).
/// </summary>
internal static class SerialNumber
{
    /// <summary>A fresh positive serial with <see cref="CertificateProfile.SerialBytes"/> random bytes from the operating system's CSPRNG.</summary>
    internal static BigInteger NewRandom()
    {
        Span<byte> random = stackalloc byte[CertificateProfile.SerialBytes];
        while (true)
        {
            RandomNumberGenerator.Fill(random);
            var serial = new BigInteger(1, random);
            if (serial.SignValue > 0)
            {
                return serial;
            }
        }
    }

    /// <summary>The canonical hex form of a positive serial.</summary>
    internal static string ToHex(BigInteger serial) => serial.ToString(16);

    /// <summary>
    /// Parses hex digits (either case, leading zeros allowed) into a positive serial; false if
    /// the text is empty, too long, not hex, or zero.
    /// </summary>
    internal static bool TryParseHex(string? hex, out BigInteger serial)
    {
        serial = BigInteger.Zero;
        if (string.IsNullOrEmpty(hex) || hex.Length > CertificateProfile.MaxSerialHexDigits)
        {
            return false;
        }

        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        var parsed = new BigInteger(hex, 16);
        if (parsed.SignValue <= 0)
        {
            return false;
        }

        serial = parsed;
        return true;
    }

}
