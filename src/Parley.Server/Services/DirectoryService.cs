using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Wire;
using Parley.Server.Hosting;
using Parley.Server.Security;
using Parley.Server.Storage;

namespace Parley.Server.Services;

/// <summary>The prekey directory: owners upload signed prekeys; others take bundles.</summary>
internal sealed class DirectoryService(ServerOptions options, IServerStore store, Caller caller) : Parley.Api.Directory.DirectoryBase
{
    /// <summary>Most one-time keys of each kind one upload may carry.</summary>
    internal const int MaxKeysPerUpload = 1000;

    public override async Task<PreKeyStatus> UploadPreKeys(UploadPreKeysRequest request, ServerCallContext context)
    {
        var owner = caller.Require(context);
        var user = await store.Users.GetUserAsync(owner, context.CancellationToken).ConfigureAwait(false)
            ?? throw RpcErrors.Unauthenticated("unknown user");
        var identity = AccountsService.StoredIdentity(user);
        if (request.OneTimePreKeys.Count > MaxKeysPerUpload || request.OneTimeKemPreKeys.Count > MaxKeysPerUpload)
        {
            throw RpcErrors.InvalidArgument($"at most {MaxKeysPerUpload} one-time keys of each kind per upload");
        }

        // Every key is checked before anything is stored, so a bad upload changes nothing.
        if (request.SignedPreKey is { } signed && !SignedPreKeyRecord.Verify(identity, signed))
        {
            throw RpcErrors.InvalidArgument("signed prekey: signature does not verify for your identity");
        }

        if (request.LastResortKemPreKey is { } lastResort && (!lastResort.LastResort || !KemPreKeyRecord.Verify(identity, lastResort)))
        {
            throw RpcErrors.InvalidArgument("last-resort KEM prekey: not marked last-resort, or signature does not verify");
        }

        foreach (var kem in request.OneTimeKemPreKeys)
        {
            if (kem.LastResort || !KemPreKeyRecord.Verify(identity, kem))
            {
                throw RpcErrors.InvalidArgument($"one-time KEM prekey {kem.Id}: marked last-resort, or signature does not verify");
            }
        }

        foreach (var oneTime in request.OneTimePreKeys)
        {
            if (oneTime.PublicKey.Length != 32)
            {
                throw RpcErrors.InvalidArgument($"one-time prekey {oneTime.Id}: a public key is 32 bytes");
            }
        }

        var cancellationToken = context.CancellationToken;
        if (request.SignedPreKey is { } spk)
        {
            await store.PreKeys.SetSignedPreKeyAsync(owner, spk.Id, spk.ToByteArray(), cancellationToken).ConfigureAwait(false);
        }

        if (request.LastResortKemPreKey is { } lrk)
        {
            await store.PreKeys.SetLastResortKemPreKeyAsync(owner, lrk.Id, lrk.ToByteArray(), cancellationToken).ConfigureAwait(false);
        }

        if (request.OneTimeKemPreKeys.Count > 0)
        {
            await store.PreKeys.AddOneTimeKemPreKeysAsync(owner, request.OneTimeKemPreKeys.Select(k => (k.Id, k.ToByteArray())).ToList(), cancellationToken).ConfigureAwait(false);
        }

        if (request.OneTimePreKeys.Count > 0)
        {
            await store.PreKeys.AddOneTimePreKeysAsync(owner, request.OneTimePreKeys.Select(k => (k.Id, k.ToByteArray())).ToList(), cancellationToken).ConfigureAwait(false);
        }

        return await StatusAsync(owner, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<FetchBundleResponse> FetchBundle(FetchBundleRequest request, ServerCallContext context)
    {
        var requester = caller.Require(context);
        var user = await AccountsService.FindUserAsync(store, request.Name, context.CancellationToken).ConfigureAwait(false);
        if (string.Equals(user.Name, requester, StringComparison.Ordinal))
        {
            throw RpcErrors.InvalidArgument("a bundle is for starting a session with someone else, not with yourself");
        }

        if (user.RevokedAt is not null)
        {
            throw RpcErrors.FailedPrecondition($"the certificate of \"{user.Name}\" is revoked");
        }

        var parts = await store.PreKeys.TakeBundleAsync(user.Name, context.CancellationToken).ConfigureAwait(false)
            ?? throw RpcErrors.NotFound($"\"{user.Name}\" has not published prekeys yet");
        var bundle = new PreKeyBundle
        {
            Version = ProtocolVersion.Current,
            Identity = AccountsService.StoredIdentity(user).ToWire(),
            SignedPreKey = SignedPreKey.Parser.ParseFrom(parts.SignedPreKey),
            KemPreKey = KemPreKey.Parser.ParseFrom(parts.KemPreKey),
            OneTimePreKey = parts.OneTimePreKey is null ? null : OneTimePreKey.Parser.ParseFrom(parts.OneTimePreKey),
        };
        return new FetchBundleResponse { Bundle = bundle, CertificatePem = user.CertificatePem };
    }

    public override async Task<PreKeyStatus> GetPreKeyStatus(GetPreKeyStatusRequest request, ServerCallContext context) =>
        await StatusAsync(caller.Require(context), context.CancellationToken).ConfigureAwait(false);

    private async Task<PreKeyStatus> StatusAsync(string owner, CancellationToken cancellationToken)
    {
        var (oneTime, oneTimeKem) = await store.PreKeys.CountPreKeysAsync(owner, cancellationToken).ConfigureAwait(false);
        return new PreKeyStatus
        {
            OneTimePreKeys = (uint)oneTime,
            OneTimeKemPreKeys = (uint)oneTimeKem,
            Replenish = oneTime < options.PreKeyLowWatermark,
        };
    }
}
