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

    // Another node may revoke: its event (ClusterLink) rebuilds the list at once, and this bounds
    // how stale it can be when that event was lost (Redis down).
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim rebuild = new(1, 1);
    private RevocationList? current;

    internal CertificateAuthority Authority => authority;

    internal IssuedCertificate Issue(string name, ReadOnlySpan<byte> signingKey) =>
        authority.IssueUserCertificate(name, signingKey, time.GetUtcNow());

    internal async Task<RevocationList> GetRevocationListAsync(CancellationToken cancellationToken)
    {
        var list = current;
        if (list is not null && list.ThisUpdate > time.GetUtcNow() - MaxAge)
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
            // From the revoked certificates, not the users: a revoked name registered again with a
            // new identity keeps its old certificate on the list.
            var revoked = (await users.ListRevokedCertificatesAsync(cancellationToken).ConfigureAwait(false))
                .Select(r => new RevokedCertificate(r.Serial, r.RevokedAt));
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
