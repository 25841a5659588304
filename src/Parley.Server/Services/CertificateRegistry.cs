using Parley.Protocol.Certificates;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>
/// The CA as the services use it: issues user certificates and keeps the current revocation list,
/// rebuilt from the store whenever a certificate is revoked.
/// </summary>
internal sealed class CertificateRegistry(CertificateAuthority authority, IUserStore users, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan CrlValidity = TimeSpan.FromDays(7);

    private readonly SemaphoreSlim rebuild = new(1, 1);
    private RevocationList? current;

    internal CertificateAuthority Authority => authority;

    internal IssuedCertificate Issue(string name, ReadOnlySpan<byte> signingKey) =>
        authority.IssueUserCertificate(name, signingKey, time.GetUtcNow());

    internal async Task<RevocationList> GetRevocationListAsync(CancellationToken cancellationToken)
    {
        var list = current;
        if (list is not null && list.NextUpdate > time.GetUtcNow() + TimeSpan.FromDays(1))
        {
            return list;
        }

        return await RebuildAsync(cancellationToken).ConfigureAwait(false);
    }

    internal async Task<RevocationList> RebuildAsync(CancellationToken cancellationToken)
    {
        await rebuild.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var revoked = (await users.ListUsersAsync(cancellationToken).ConfigureAwait(false))
                .Where(u => u.RevokedAt is not null)
                .Select(u => new RevokedCertificate(u.CertificateSerial, u.RevokedAt!.Value));
            current = authority.CreateRevocationList(revoked, time.GetUtcNow(), CrlValidity);
            return current;
        }
        finally
        {
            rebuild.Release();
        }
    }

    public void Dispose() => rebuild.Dispose();
}
