using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Protocol.Session;

namespace Parley.Server.Tests.Behaviour;

public sealed class DirectoryTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task FetchedBundleStartsASessionTheOwnerCanAccept()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");

        var fetched = await alice.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" });
        using var session = RatchetSession.Initiate(alice.Identity, fetched.Bundle);
        var first = RatchetSession.ParseMessage(session.Encrypt("hello"u8));
        using var accepted = RatchetSession.Accept(bob.Identity, first.PreKey, bob.PreKeys, out var plaintext);

        Assert.Equal("hello"u8.ToArray(), plaintext);
        Assert.Equal(bob.CertificatePem, fetched.CertificatePem);
    }

    [Fact]
    public async Task ConcurrentFetchesNeverShareAOneTimePreKey()
    {
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 10);
        var fetchers = new List<TestUser>();
        for (var i = 0; i < 4; i++)
        {
            fetchers.Add(await server.RegisterAsync($"fetcher{i}", oneTimePreKeys: 0));
        }

        var bundles = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            fetchers[i % fetchers.Count].Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" }).ResponseAsync));

        var handedOut = bundles.Where(b => b.Bundle.OneTimePreKey is not null).Select(b => b.Bundle.OneTimePreKey.Id).ToList();
        Assert.Equal(10, handedOut.Count);
        Assert.Equal(10, handedOut.Distinct().Count());
        Assert.All(bundles, b => Assert.NotNull(b.Bundle.KemPreKey));
        foreach (var fetcher in fetchers)
        {
            await fetcher.DisposeAsync();
        }
    }

    [Fact]
    public async Task StatusAsksForReplenishmentWhenLow()
    {
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 2);
        var status = await bob.Connection.Directory.GetPreKeyStatusAsync(new GetPreKeyStatusRequest());
        Assert.Equal(2u, status.OneTimePreKeys);
        Assert.True(status.Replenish);

        status = await bob.UploadPreKeysAsync(20);
        Assert.Equal(22u, status.OneTimePreKeys);
        Assert.False(status.Replenish);
    }

    [Fact]
    public async Task BundleForOneselfIsRefused()
    {
        await using var alice = await server.RegisterAsync("alice");
        var error = await Assert.ThrowsAsync<RpcException>(async () => await alice.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "alice" }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task BundleForUnknownUserIsNotFound()
    {
        await using var alice = await server.RegisterAsync("alice");
        var error = await Assert.ThrowsAsync<RpcException>(async () => await alice.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "nobody" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task UploadWithAForgedSignatureChangesNothing()
    {
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 1);
        await using var mallory = await server.RegisterAsync("mallory", oneTimePreKeys: 0);
        var forged = Protocol.PreKeys.SignedPreKeyRecord.Generate(mallory.Identity, 99, DateTimeOffset.UtcNow).ToWire();

        var error = await Assert.ThrowsAsync<RpcException>(async () => await bob.Connection.Directory.UploadPreKeysAsync(new UploadPreKeysRequest { SignedPreKey = forged }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var fetched = await mallory.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" });
        Assert.NotEqual(99u, fetched.Bundle.SignedPreKey.Id);
        Assert.NotNull(RatchetSession.Initiate(mallory.Identity, fetched.Bundle));
    }

    [Fact]
    public async Task UploadWithAMalformedOneTimeKeyIsRefused()
    {
        await using var bob = await server.RegisterAsync("bob", oneTimePreKeys: 0);
        var request = new UploadPreKeysRequest();
        request.OneTimePreKeys.Add(new Protocol.Wire.OneTimePreKey { Id = 1, PublicKey = ByteString.CopyFrom(new byte[7]) });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await bob.Connection.Directory.UploadPreKeysAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }
}
