using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Parley.Api;
using Parley.Client.Connection;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Server.Hosting;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// The real server (Kestrel, TLS, gRPC, storage) on a free loopback port with a temporary data
/// directory, and helpers to talk to it through the generated gRPC clients.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly bool ownsDirectory;
    private ParleyServer? server;

    private TestServer(ServerOptions options, bool ownsDirectory)
    {
        Options = options;
        this.ownsDirectory = ownsDirectory;
    }

    internal ServerOptions Options { get; private set; }

    internal Uri Address => Options.Listen;

    internal string CaPem => Running.CaCertificatePem;

    internal string AdminToken => File.ReadAllText(Path.Combine(Options.DataDirectory, "admin.token")).Trim();

    private ParleyServer Running => server ?? throw new InvalidOperationException("server not running");

    internal static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, string? postgres = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-test-" + Guid.NewGuid().ToString("N"));
        var options = new ServerOptions
        {
            DataDirectory = directory,
            Listen = new Uri($"https://127.0.0.1:{FreePort()}"),
            Storage = postgres is null ? StorageEngine.Sqlite : StorageEngine.Postgres,
            PostgresConnectionString = postgres,
        };
        options = configure?.Invoke(options) ?? options;
        var test = new TestServer(options, ownsDirectory: true);
        await test.StartServerAsync();
        return test;
    }

    /// <summary>Stops the server gracefully and starts a new process-equivalent on the same data and port.</summary>
    internal async Task RestartAsync()
    {
        await StopServerAsync();
        await StartServerAsync();
    }

    internal async Task StopServerAsync()
    {
        if (server is not null)
        {
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
            server = null;
        }
    }

    internal ServerConnection Connect()
    {
        var ca = new PinnedCertificateAuthority(CaPem);
        return ServerConnection.Open(Address, ca);
    }

    /// <summary>Registers <paramref name="name"/>, authenticates and publishes prekeys.</summary>
    internal async Task<TestUser> RegisterAsync(string name, int oneTimePreKeys = 5)
    {
        var identity = IdentityKeyPair.Generate();
        var connection = Connect();
        var registered = await connection.RegisterAsync(name, identity, invite: null, CancellationToken.None);
        await connection.AuthenticateAsync(name, identity, CancellationToken.None);
        var user = new TestUser(name, identity, connection, registered.CertificatePem);
        await user.UploadPreKeysAsync(oneTimePreKeys);
        return user;
    }

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        if (ownsDirectory)
        {
            await DeleteDirectoryAsync(Options.DataDirectory);
        }
    }

    /// <summary>
    /// Removes the data directory. SQLite may still be removing its -wal and -shm files as the last
    /// connection closes; a delete that meets one of them is tried again instead of failing the test.
    /// </summary>
    private static async Task DeleteDirectoryAsync(string path)
    {
        for (var attempt = 1; System.IO.Directory.Exists(path); attempt++)
        {
            try
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
            catch (IOException) when (attempt < 5)
            {
                await Task.Delay(100 * attempt);
            }
        }
    }

    private async Task StartServerAsync()
    {
        server = await ParleyServer.CreateAsync(Options, CancellationToken.None);
        await server.StartAsync(CancellationToken.None);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A registered, authenticated user with its own connection and prekeys.</summary>
internal sealed class TestUser(string name, IdentityKeyPair identity, ServerConnection connection, string certificatePem) : IAsyncDisposable
{
    private uint nextId = 1;

    internal string Name { get; } = name;

    internal IdentityKeyPair Identity { get; } = identity;

    internal ServerConnection Connection { get; } = connection;

    internal string CertificatePem { get; } = certificatePem;

    internal Protocol.Storage.InMemoryPreKeyStore PreKeys { get; } = new();

    internal async Task<PreKeyStatus> UploadPreKeysAsync(int oneTime)
    {
        var request = new UploadPreKeysRequest();
        var signed = SignedPreKeyRecord.Generate(Identity, nextId++, DateTimeOffset.UtcNow);
        var lastResort = KemPreKeyRecord.Generate(Identity, nextId++, lastResort: true, DateTimeOffset.UtcNow);
        PreKeys.Add(signed);
        PreKeys.Add(lastResort);
        request.SignedPreKey = signed.ToWire();
        request.LastResortKemPreKey = lastResort.ToWire();
        for (var i = 0; i < oneTime; i++)
        {
            var key = OneTimePreKeyRecord.Generate(nextId++);
            PreKeys.Add(key);
            request.OneTimePreKeys.Add(key.ToWire());
        }

        return await Connection.Directory.UploadPreKeysAsync(request);
    }

    internal async Task<SendResponse> SendAsync(string recipient, byte[] body, byte[]? messageId = null) =>
        await Connection.Mailbox.SendAsync(new SendRequest
        {
            MessageId = ByteString.CopyFrom(messageId ?? Guid.NewGuid().ToByteArray()),
            Recipient = recipient,
            Body = ByteString.CopyFrom(body),
        });

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        Identity.Dispose();
    }
}
