using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Identity;

/// <summary>
/// The 60-digit safety number two users compare out of band, computed as Signal's
/// NumericFingerprintGenerator does: per user, SHA-512 run 5200 times, first over
/// version (u16 0) || key || name || key, then over the previous hash || key; 30 digits each;
/// the two halves in sorted order, so both users see the same number.
/// </summary>
public static class SafetyNumber
{
    /// <summary>Hash iterations, as Signal.</summary>
    public const int Iterations = 5200;

    /// <summary>Digits in a safety number.</summary>
    public const int Digits = 60;

    /// <summary>The 60 digits, without spaces.</summary>
    public static string Compute(string localName, IdentityKey localIdentity, string remoteName, IdentityKey remoteIdentity)
    {
        ArgumentNullException.ThrowIfNull(localName);
        ArgumentNullException.ThrowIfNull(localIdentity);
        ArgumentNullException.ThrowIfNull(remoteName);
        ArgumentNullException.ThrowIfNull(remoteIdentity);
        var local = Half(localName, localIdentity.SigningKey);
        var remote = Half(remoteName, remoteIdentity.SigningKey);
        return string.CompareOrdinal(local, remote) <= 0 ? local + remote : remote + local;
    }

    /// <summary>Groups the digits in twelve blocks of five, as people read them aloud.</summary>
    public static string Format(string digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        var builder = new StringBuilder(digits.Length + (digits.Length / 5));
        for (var i = 0; i < digits.Length; i += 5)
        {
            if (i > 0)
            {
                builder.Append(' ');
            }

            builder.Append(digits, i, Math.Min(5, digits.Length - i));
        }

        return builder.ToString();
    }

    /// <summary>
    /// One user's 30 digits, exactly as libsignal's Fingerprint::get_fingerprint and
    /// get_encoded_string: h = SHA-512(0x0000 || key || name || key), then h = SHA-512(h || key)
    /// until SHA-512 has run <see cref="Iterations"/> times in all (docs/protocol.md §7).
    /// </summary>
    internal static string Half(string name, ReadOnlySpan<byte> key)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[2 + key.Length + nameBytes.Length + key.Length];
        key.CopyTo(input.AsSpan(2));
        nameBytes.CopyTo(input.AsSpan(2 + key.Length));
        key.CopyTo(input.AsSpan(2 + key.Length + nameBytes.Length));
        Span<byte> hash = stackalloc byte[SHA512.HashSizeInBytes];
        SHA512.HashData(input, hash);

        var round = new byte[SHA512.HashSizeInBytes + key.Length];
        key.CopyTo(round.AsSpan(SHA512.HashSizeInBytes));
        for (var i = 1; i < Iterations; i++)
        {
            hash.CopyTo(round);
            SHA512.HashData(round, hash);
        }

        var digits = new StringBuilder(30);
        for (var chunk = 0; chunk < 6; chunk++)
        {
            ulong value = 0;
            for (var b = 0; b < 5; b++)
            {
                value = (value << 8) | hash[(chunk * 5) + b];
            }

            digits.Append((value % 100000).ToString("D5", CultureInfo.InvariantCulture));
        }

        return digits.ToString();
    }
}
