namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// Tests of the client library (Messenger) against a real in-process server: the server, and a
/// temporary directory for the profiles, removed afterwards.
/// </summary>
public abstract class ClientAgainstServer : IAsyncLifetime
{
    private readonly string profiles = Path.Combine(Path.GetTempPath(), "parley-client-" + Guid.NewGuid().ToString("N"));

    private protected TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        if (Directory.Exists(profiles))
        {
            Directory.Delete(profiles, recursive: true);
        }
    }

    /// <summary>Where the profile of <paramref name="user"/> lives for this test.</summary>
    private protected string ProfileDirectory(string user) => Path.Combine(profiles, user);
}
