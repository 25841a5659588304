namespace Parley.Server.Hosting;

/// <summary>
/// Everything `parley serve` can be told. Sources, in precedence order: command-line flags, then
/// PARLEY_* environment variables, then the optional JSON file (docs/operations.md).
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Where the CA, the TLS key, the admin token and the SQLite database live.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The HTTPS address to listen on.</summary>
    public Uri Listen { get; init; } = new("https://127.0.0.1:7443");

    /// <summary>sqlite (default, embedded) or postgres.</summary>
    public StorageEngine Storage { get; init; } = StorageEngine.Sqlite;

    /// <summary>Npgsql connection string, required with <see cref="StorageEngine.Postgres"/>.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>Names the TLS certificate is issued for; the first is the server name signed in authentication.</summary>
    public IReadOnlyList<string> HostNames { get; init; } = ["localhost", "127.0.0.1"];

    /// <summary>open (anyone may register) or invite (an admin-made one-time invite is needed).</summary>
    public RegistrationPolicy Registration { get; init; } = RegistrationPolicy.Open;

    /// <summary>Largest message body accepted, in bytes.</summary>
    public int MaxMessageBytes { get; init; } = 256 * 1024;

    /// <summary>Most messages queued for one recipient; past it, sends to them are refused until they read.</summary>
    public int MaxQueuedPerUser { get; init; } = 10_000;

    /// <summary>Below this many one-time prekeys the server tells the owner to replenish.</summary>
    public int PreKeyLowWatermark { get; init; } = 10;

    /// <summary>Sends per second allowed to one user (token bucket, burst of twice this).</summary>
    public int SendsPerSecondPerUser { get; init; } = 200;

    /// <summary>Unauthenticated requests (challenges, registrations) per second from one connection.</summary>
    public int AnonymousRequestsPerSecondPerConnection { get; init; } = 20;

    /// <summary>A Receive stream whose client takes no pushed envelope for this long is disconnected.</summary>
    public TimeSpan ReceiveWriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An invitation's nameplate that nobody claims within this time expires (docs/protocol.md §12.1).</summary>
    public TimeSpan RendezvousExpiry { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Rendezvous opened or claimed per minute by one user (token bucket, burst of the same).</summary>
    public int RendezvousPerMinutePerUser { get; init; } = 10;

    /// <summary>Unclaimed nameplates one user may hold at once.</summary>
    public int RendezvousWaitingPerUser { get; init; } = 3;

    /// <summary>Frames relayed per second through one nameplate, both directions together (burst of twice this).</summary>
    public int RendezvousFramesPerSecond { get; init; } = 50;

    /// <summary>Largest relayed frame, in bytes.</summary>
    public int RendezvousMaxFrameBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Redis for a deployment of several nodes ("host:port" or a StackExchange.Redis configuration
    /// string): cross-node wake-ups, stream takeovers, revocations and per-user rate limits. Null:
    /// this node works alone (docs/operations.md, "Several nodes").
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>This node's name in logs, /healthz, /metrics and its Redis client name.</summary>
    public string NodeId { get; init; } = DefaultNodeId();

    /// <summary>
    /// A Receive stream re-reads its mailbox this often even without a wake-up: the safety net
    /// while wake-ups work (in-process, and through Redis when it is configured and reachable).
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The re-read interval while Redis is configured but unreachable: wake-ups from other nodes
    /// cannot arrive, so connected users are served by polling the database this often.
    /// </summary>
    public TimeSpan DegradedPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The name signed in authentication challenges.</summary>
    public string ServerName => HostNames.Count > 0 ? HostNames[0] : "localhost";

    /// <summary>Whether <paramref name="nodeId"/> is a usable node id: 1-64 of A-Z, a-z, 0-9, '.', '_', '-'.</summary>
    public static bool IsValidNodeId(string nodeId) =>
        !string.IsNullOrEmpty(nodeId) && nodeId.Length <= 64 && nodeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>HOSTNAME-PID: unique per process on one machine.</summary>
    internal static string DefaultNodeId()
    {
        var host = new string([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')]);
        return (host.Length == 0 ? "node" : host[..Math.Min(host.Length, 40)]) + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The storage engines.</summary>
public enum StorageEngine
{
    /// <summary>Embedded SQLite under the data directory.</summary>
    Sqlite,

    /// <summary>PostgreSQL through Npgsql.</summary>
    Postgres,
}

/// <summary>Who may register.</summary>
public enum RegistrationPolicy
{
    /// <summary>Anyone who can reach the server.</summary>
    Open,

    /// <summary>Only holders of an admin-made one-time invite.</summary>
    Invite,
}
