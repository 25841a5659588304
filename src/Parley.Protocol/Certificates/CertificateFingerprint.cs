using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Parley.Protocol.Certificates;

/// <summary>
/// The SHA-256 fingerprint of a certificate's DER encoding: how a user pins a server's CA
/// (<c>parley serve</c> prints it, <c>--ca-fingerprint</c> accepts it).
/// </summary>
public sealed class CertificateFingerprint : IEquatable<CertificateFingerprint>
{
    private const string Prefix = "SHA256:";
    private const int HashBytes = 32;

    private readonly byte[] _hash;

    private CertificateFingerprint(byte[] hash)
    {
        _hash = hash;
    }

    /// <summary>The fingerprint as 64 lowercase hex digits, e.g. for a configuration file.</summary>
    public string Hex => Convert.ToHexStringLower(_hash);

    /// <summary>The fingerprint for people to compare: <c>SHA256:AB:CD:…</c> (32 colon-separated uppercase pairs).</summary>
    public string Formatted => Prefix + string.Join(':', _hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// Parses either form: 64 hex digits, or the <see cref="Formatted"/> form. Case, the
    /// <c>SHA256:</c> prefix and the colons are optional.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not a SHA-256 fingerprint.</exception>
    public static CertificateFingerprint Parse(string text) =>
        TryParse(text, out CertificateFingerprint? fingerprint)
            ? fingerprint
            : throw new FormatException("not a SHA-256 certificate fingerprint (expected 64 hex digits or SHA256:AB:CD:...)");

    /// <summary>Parses like <see cref="Parse"/>; false instead of an exception.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out CertificateFingerprint? fingerprint)
    {
        fingerprint = null;
        if (text is null)
        {
            return false;
        }

        ReadOnlySpan<char> digits = text.AsSpan().Trim();
        if (digits.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[Prefix.Length..];
        }

        string compact = digits.ToString().Replace(":", string.Empty, StringComparison.Ordinal);
        if (compact.Length != HashBytes * 2 || !compact.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        fingerprint = new CertificateFingerprint(Convert.FromHexString(compact));
        return true;
    }

    /// <summary>Whether two fingerprints are of the same certificate.</summary>
    public bool Equals([NotNullWhen(true)] CertificateFingerprint? other) =>
        other is not null && _hash.AsSpan().SequenceEqual(other._hash);

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => Equals(obj as CertificateFingerprint);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_hash, 0);

    /// <summary>The <see cref="Formatted"/> form.</summary>
    public override string ToString() => Formatted;

    /// <summary>Whether two fingerprints are equal.</summary>
    public static bool operator ==(CertificateFingerprint? left, CertificateFingerprint? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>Whether two fingerprints differ.</summary>
    public static bool operator !=(CertificateFingerprint? left, CertificateFingerprint? right) => !(left == right);

    /// <summary>The fingerprint of a certificate's DER bytes.</summary>
    internal static CertificateFingerprint Of(ReadOnlySpan<byte> der) => new(SHA256.HashData(der));
}
