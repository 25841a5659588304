using Parley.Client;

namespace Parley.Server.Tests.Behaviour;

/// <summary>Cancelling a client call is the caller's own stop, seen as OperationCanceledException, not a server error.</summary>
public sealed class ClientCancellationTests : ClientAgainstServer
{
    /// <summary>
    /// `parley chat` and `inbox --follow` stop their receive this way (/quit, Ctrl+C); a cancelled
    /// status that escaped as RpcException made the chat exit 1 after /quit.
    /// </summary>
    [Fact]
    public async Task CancellingAFollowingReceiveThrowsOperationCanceled()
    {
        await using var bob = await Messenger.RegisterAsync(ProfileDirectory("bob"), "pw", "bob", Server.Address, Server.CaPem, invite: null, CancellationToken.None);
        using var stop = new CancellationTokenSource();

        var receiving = bob.ReceiveAsync(_ => { }, TimeSpan.Zero, follow: true, stop.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(receiving.IsCompleted, $"the receive ended by itself: {receiving.Exception}");
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiving);
    }
}
