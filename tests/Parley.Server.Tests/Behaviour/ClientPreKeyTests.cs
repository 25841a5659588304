using Parley.Api;
using Parley.Client;

namespace Parley.Server.Tests.Behaviour;

/// <summary>The client library keeps its prekey supply up without being asked.</summary>
public sealed class ClientPreKeyTests : ClientAgainstServer
{
    [Fact]
    public async Task ConnectingAfterTheDirectoryRanDryUploadsAFreshBatch()
    {
        var directory = ProfileDirectory("bob");
        await using (var registered = await Messenger.RegisterAsync(directory, "pw", "bob", Server.Address, Server.CaPem, invite: null, CancellationToken.None))
        {
        }

        await using var watcher = await Server.RegisterAsync("watcher", oneTimePreKeys: 0);
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
