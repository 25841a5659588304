using Parley.Api;
using Parley.Client;

namespace Parley.Server.Tests.Behaviour;

/// <summary>The client library keeps its prekey supply up without being asked.</summary>
public sealed class ClientPreKeyTests : IAsyncLifetime
{
    private readonly string profiles = Path.Combine(Path.GetTempPath(), "parley-client-" + Guid.NewGuid().ToString("N"));
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        if (System.IO.Directory.Exists(profiles))
        {
            System.IO.Directory.Delete(profiles, recursive: true);
        }
    }

    [Fact]
    public async Task ConnectingAfterTheDirectoryRanDryUploadsAFreshBatch()
    {
        var directory = Path.Combine(profiles, "bob");
        await using (var registered = await Messenger.RegisterAsync(directory, "pw", "bob", server.Address, server.CaPem, invite: null, CancellationToken.None))
        {
        }

        await using var watcher = await server.RegisterAsync("watcher", oneTimePreKeys: 0);
        Assert.Equal((uint)Messenger.OneTimePreKeyBatch, await TakeAllAsync(watcher));

        // Everyone took bob's one-time keys; his next connection sees the server's low flag and uploads more.
        await using (var again = Messenger.Open(directory, "pw"))
        {
            await again.ConnectAsync(CancellationToken.None);
        }

        Assert.Equal((uint)Messenger.OneTimePreKeyBatch, await TakeAllAsync(watcher));
    }

    /// <summary>Takes bob's bundles until they come without a one-time prekey; returns how many had one.</summary>
    private static async Task<uint> TakeAllAsync(TestUser taker)
    {
        uint count = 0;
        while ((await taker.Connection.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" })).Bundle.OneTimePreKey is not null)
        {
            count++;
        }

        return count;
    }
}
