using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Protocol.Certificates;

namespace Parley.Server.Hosting;

/// <summary>
/// The server's files in its data directory: the CA (made on first start), the TLS certificate
/// it issues to itself for the configured host names, and the admin token. Files with private
/// keys or secrets are created with mode 0600 before anything is written to them.
/// </summary>
internal sealed class ServerFiles : IDisposable
{
    internal const string CaCertificateFile = "ca.pem";
    internal const string CaKeyFile = "ca.key";
    internal const string TlsCertificateFile = "tls.pem";
    internal const string TlsKeyFile = "tls.key";
    internal const string AdminTokenFile = "admin.token";

    /// <summary>Held while the files are read or made, so that nodes sharing one data directory make one CA.</summary>
    internal const string LockFile = "files.lock";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    private ServerFiles(CertificateAuthority authority, X509Certificate2 tlsCertificate, string adminToken, bool created)
    {
        Authority = authority;
        TlsCertificate = tlsCertificate;
        AdminToken = adminToken;
        CreatedAuthority = created;
    }

    internal CertificateAuthority Authority { get; }

    internal X509Certificate2 TlsCertificate { get; }

    internal string AdminToken { get; }

    /// <summary>True when this start made a new CA (first start).</summary>
    internal bool CreatedAuthority { get; }

    /// <summary>
    /// Loads the server's files, creating whichever are missing. Several nodes may share one data
    /// directory (docs/operations.md, "Several nodes"): an exclusive lock on <see cref="LockFile"/>
    /// makes nodes that start together take turns, so the first makes the CA and the others load it.
    /// </summary>
    internal static ServerFiles LoadOrCreate(string dataDirectory, IReadOnlyList<string> hostNames, DateTimeOffset now)
    {
        Directory.CreateDirectory(dataDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        using var held = TakeLock(Path.Combine(dataDirectory, LockFile));
        return LoadOrCreateLocked(dataDirectory, hostNames, now);
    }

    private static FileStream TakeLock(string path)
    {
        var deadline = DateTimeOffset.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) on Unix, held until disposed.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static ServerFiles LoadOrCreateLocked(string dataDirectory, IReadOnlyList<string> hostNames, DateTimeOffset now)
    {

        var caCertificatePath = Path.Combine(dataDirectory, CaCertificateFile);
        var caKeyPath = Path.Combine(dataDirectory, CaKeyFile);
        CertificateAuthority authority;
        var created = false;
        if (File.Exists(caCertificatePath) && File.Exists(caKeyPath))
        {
            authority = CertificateAuthority.Load(File.ReadAllText(caCertificatePath), File.ReadAllText(caKeyPath));
        }
        else
        {
            authority = CertificateAuthority.Create($"Parley CA {(hostNames.Count > 0 ? hostNames[0] : "localhost")}", now);
            WriteSecret(caKeyPath, authority.ExportPrivateKeyPem());
            File.WriteAllText(caCertificatePath, authority.RootCertificatePem);
            created = true;
        }

        var tls = LoadOrIssueTlsCertificate(dataDirectory, authority, hostNames, now, forceNew: created);
        var adminTokenPath = Path.Combine(dataDirectory, AdminTokenFile);
        if (!File.Exists(adminTokenPath))
        {
            WriteSecret(adminTokenPath, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }

        return new ServerFiles(authority, tls, File.ReadAllText(adminTokenPath).Trim(), created);
    }

    /// <summary>Reads the admin token of a server's data directory, for `parley admin` on the same machine.</summary>
    internal static string ReadAdminToken(string dataDirectory) => File.ReadAllText(Path.Combine(dataDirectory, AdminTokenFile)).Trim();

    private static X509Certificate2 LoadOrIssueTlsCertificate(string dataDirectory, CertificateAuthority authority, IReadOnlyList<string> hostNames, DateTimeOffset now, bool forceNew)
    {
        var certificatePath = Path.Combine(dataDirectory, TlsCertificateFile);
        var keyPath = Path.Combine(dataDirectory, TlsKeyFile);
        if (!forceNew && File.Exists(certificatePath) && File.Exists(keyPath))
        {
            var existing = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            if (existing.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(30) && CoversHostNames(existing, hostNames))
            {
                return ForKestrel(existing);
            }

            existing.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var dnsNames = hostNames.Where(h => !IPAddress.TryParse(h, out _)).ToList();
        var addresses = hostNames.Select(h => IPAddress.TryParse(h, out var a) ? a : null).OfType<IPAddress>().ToList();
        var issued = authority.IssueServerCertificate(key.ExportSubjectPublicKeyInfo(), dnsNames, addresses, now);
        WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, issued.Pem);
        using var certificate = X509Certificate2.CreateFromPem(issued.Pem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return ForKestrel(withKey);
    }

    private static bool CoversHostNames(X509Certificate2 certificate, IReadOnlyList<string> hostNames)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var names = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return hostNames.All(names.Contains);
    }

    /// <summary>Kestrel on Linux needs the key in an exportable PKCS#12 form to build its SSL context.</summary>
    private static X509Certificate2 ForKestrel(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);

    private static void WriteSecret(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose()
    {
        Authority.Dispose();
        TlsCertificate.Dispose();
    }
}
