using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Client.Connection;

/// <summary>
/// TLS server validation against the one CA a client pinned: the server's certificate must chain
/// to exactly that root (by SHA-256 fingerprint) and name the host. The system trust store plays no
/// part, so neither a public CA nor a local proxy can stand in for the server.
/// </summary>
public sealed class PinnedCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 root;

    /// <summary>Pins the CA given as PEM.</summary>
    public PinnedCertificateAuthority(string caCertificatePem)
    {
        ArgumentException.ThrowIfNullOrEmpty(caCertificatePem);
        root = X509Certificate2.CreateFromPem(caCertificatePem);
        Fingerprint = FormatFingerprint(SHA256.HashData(root.RawData));
    }

    /// <summary>"SHA256:AB:CD:..." of the pinned root.</summary>
    public string Fingerprint { get; }

    /// <summary>"SHA256:AB:CD:..." of a certificate's DER bytes, as `parley serve` prints it.</summary>
    public static string FormatFingerprint(ReadOnlySpan<byte> sha256) =>
        "SHA256:" + string.Join(':', sha256.ToArray().Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>True when <paramref name="text"/> names the same fingerprint (case, colons and prefix ignored).</summary>
    public bool Matches(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        static string Canonical(string s) => s.Replace("SHA256:", string.Empty, StringComparison.OrdinalIgnoreCase).Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant();
        return string.Equals(Canonical(text), Canonical(Fingerprint), StringComparison.Ordinal);
    }

    /// <summary>The TLS callback: accepts only a chain to the pinned root with a matching host name.</summary>
    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(leaf))
        {
            return false;
        }

        var top = chain.ChainElements[^1].Certificate;
        return top.RawData.AsSpan().SequenceEqual(root.RawData);
    }

    /// <inheritdoc/>
    public void Dispose() => root.Dispose();
}
