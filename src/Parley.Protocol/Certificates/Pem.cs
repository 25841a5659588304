using System.Security.Cryptography;
using System.Text;
using Parley.Protocol.Internal;

namespace Parley.Protocol.Certificates;

/// <summary>
/// PEM (RFC 7468) encoding and decoding of the DER structures this folder exchanges, with a size
/// limit on untrusted input.
/// </summary>
internal static class Pem
{
    /// <summary>The first byte of every DER structure Parley reads: a SEQUENCE (X.690 8.9).</summary>
    private const byte DerSequenceTag = 0x30;

    /// <summary>Encodes <paramref name="der"/> as PEM with the given label and a final newline.</summary>
    internal static string Encode(string label, ReadOnlySpan<byte> der) =>
        string.Concat(PemEncoding.Write(label, der), "\n");

    /// <summary>
    /// Returns the DER bytes of <paramref name="input"/>, which is either DER or PEM text with
    /// <paramref name="label"/>. Anything else is <see cref="ProtocolErrorKind.Malformed"/>.
    /// </summary>
    internal static byte[] DecodePemOrDer(ReadOnlySpan<byte> input, string label, int maxDerBytes, string what)
    {
        if (input.IsEmpty)
        {
            throw Error.Malformed(what);
        }

        if (input[0] == DerSequenceTag)
        {
            if (input.Length > maxDerBytes)
            {
                throw Error.Malformed(what);
            }

            return input.ToArray();
        }

        if (input.Length > MaxPemChars(maxDerBytes))
        {
            throw Error.Malformed(what);
        }

        return DecodePem(Encoding.UTF8.GetString(input), label, maxDerBytes, what);
    }

    /// <summary>Returns the DER bytes of the first PEM block in <paramref name="text"/>, which must carry <paramref name="label"/>.</summary>
    internal static byte[] DecodePem(ReadOnlySpan<char> text, string label, int maxDerBytes, string what)
    {
        if (text.Length > MaxPemChars(maxDerBytes)
            || !PemEncoding.TryFind(text, out PemFields fields)
            || !text[fields.Label].SequenceEqual(label)
            || fields.DecodedDataLength > maxDerBytes)
        {
            throw Error.Malformed(what);
        }

        byte[] der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(text[fields.Base64Data], der, out int written) || written != der.Length)
        {
            throw Error.Malformed(what);
        }

        return der;
    }

    /// <summary>Base64 grows data by 4/3; line breaks, the armour and explanatory text get generous room.</summary>
    private static int MaxPemChars(int maxDerBytes) => (maxDerBytes * 2) + 4096;
}
