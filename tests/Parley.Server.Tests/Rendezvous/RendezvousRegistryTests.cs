using Grpc.Core;
using Parley.Server.Hosting;
using Parley.Server.Rendezvous;

namespace Parley.Server.Tests.Rendezvous;

/// <summary>The in-memory nameplate registry on its own: allocation, single use, forgetting.</summary>
public sealed class RendezvousRegistryTests
{
    private static readonly ServerOptions Options = new() { DataDirectory = "unused", RendezvousWaitingPerUser = 1000 };

    [Fact]
    public void NameplatesAreShortDistinctAndNotSequential()
    {
        var registry = new InMemoryRendezvousRegistry(Options, TimeProvider.System);
        var nameplates = Enumerable.Range(0, 100).Select(_ => registry.Open("alice").Nameplate).ToList();

        Assert.Equal(100, nameplates.Distinct().Count());
        Assert.All(nameplates, n => Assert.InRange(n, 1u, 999u));
        Assert.NotEqual(nameplates.Order().ToList(), nameplates);
    }

    [Fact]
    public void RangeGrowsWhenHalfIsTaken()
    {
        var registry = new InMemoryRendezvousRegistry(Options, TimeProvider.System);
        var nameplates = Enumerable.Range(0, 600).Select(_ => registry.Open("alice").Nameplate).ToList();

        Assert.Equal(600, nameplates.Distinct().Count());
        Assert.Contains(nameplates, n => n > 999);
        Assert.All(nameplates, n => Assert.InRange(n, 1u, 9999u));
    }

    [Fact]
    public async Task EndedRoomIsForgottenAndItsNameplateStaysBurnt()
    {
        var registry = new InMemoryRendezvousRegistry(Options, TimeProvider.System);
        var room = registry.Open("alice");
        Assert.Same(room, registry.Claim(room.Nameplate, "bob"));
        Assert.Equal(1, registry.LiveCount);

        room.Mismatch();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (registry.LiveCount != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, registry.LiveCount);
        var error = Assert.Throws<RpcException>(() => registry.Claim(room.Nameplate, "carol"));
        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal(StatusCode.NotFound, Assert.Throws<RpcException>(() => registry.Claim(room.Nameplate == 1 ? 2u : 1u, "carol")).StatusCode);
    }
}
