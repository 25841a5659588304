using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Server.Hosting;

namespace Parley.Cli.Commands;

/// <summary>
/// Resolves `parley serve` settings: command-line flags, then PARLEY_* environment variables,
/// then the optional JSON file, then defaults (docs/operations.md).
/// </summary>
internal static partial class ServerSettings
{
    internal sealed record Flags(string? Data, string? Listen, string? Storage, string? Postgres, string[]? Hosts, string? Registration, string? Config, string? Redis = null, string? NodeId = null);

    private sealed record FileSettings(
        string? Data,
        string? Listen,
        string? Storage,
        string? Postgres,
        string[]? Hosts,
        string? Registration,
        int? MaxMessageBytes,
        int? MaxQueuedPerUser,
        string? Redis,
        string? NodeId,
        int? PollIntervalMs,
        int? DegradedPollIntervalMs,
        int? SendsPerSecondPerUser,
        int? RendezvousExpirySeconds);

    internal static ServerOptions Resolve(Flags flags)
    {
        var file = ReadFile(flags.Config ?? Env("PARLEY_CONFIG"));
        var data = flags.Data ?? Env("PARLEY_DATA") ?? file?.Data ?? DefaultDataDirectory();
        var listen = flags.Listen ?? Env("PARLEY_LISTEN") ?? file?.Listen ?? "https://127.0.0.1:7443";
        var storage = flags.Storage ?? Env("PARLEY_STORAGE") ?? file?.Storage ?? "sqlite";
        var postgres = flags.Postgres ?? Env("PARLEY_POSTGRES") ?? file?.Postgres;
        var hosts = flags.Hosts is { Length: > 0 } ? flags.Hosts
            : Env("PARLEY_HOSTS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            ?? file?.Hosts
            ?? ["localhost", "127.0.0.1"];
        var registration = flags.Registration ?? Env("PARLEY_REGISTRATION") ?? file?.Registration ?? "open";
        var redis = flags.Redis ?? Env("PARLEY_REDIS") ?? file?.Redis;
        var nodeId = flags.NodeId ?? Env("PARLEY_NODE_ID") ?? file?.NodeId;
        if (nodeId is not null && !ServerOptions.IsValidNodeId(nodeId))
        {
            throw new ServerStartException($"--node-id must be 1-64 characters A-Z, a-z, 0-9, '.', '_', '-' (got \"{nodeId}\")");
        }

        var pollInterval = Milliseconds("PARLEY_POLL_INTERVAL_MS", file?.PollIntervalMs, 5000);
        var degradedPollInterval = Milliseconds("PARLEY_DEGRADED_POLL_INTERVAL_MS", file?.DegradedPollIntervalMs, 1000);

        var rendezvousExpiry = EnvInt("PARLEY_RENDEZVOUS_EXPIRY_SECONDS") ?? file?.RendezvousExpirySeconds ?? 600;
        if (!Uri.TryCreate(listen, UriKind.Absolute, out var listenUri))
        {
            throw new ServerStartException($"--listen is not an address: {listen}");
        }

        return new ServerOptions
        {
            DataDirectory = data,
            Listen = listenUri,
            Storage = storage.ToLowerInvariant() switch
            {
                "sqlite" => StorageEngine.Sqlite,
                "postgres" or "postgresql" => StorageEngine.Postgres,
                _ => throw new ServerStartException($"unknown storage \"{storage}\" (sqlite or postgres)"),
            },
            PostgresConnectionString = postgres,
            HostNames = hosts,
            Registration = registration.ToLowerInvariant() switch
            {
                "open" => RegistrationPolicy.Open,
                "invite" => RegistrationPolicy.Invite,
                _ => throw new ServerStartException($"unknown registration policy \"{registration}\" (open or invite)"),
            },
            MaxMessageBytes = EnvInt("PARLEY_MAX_MESSAGE_BYTES") ?? file?.MaxMessageBytes ?? 256 * 1024,
            MaxQueuedPerUser = EnvInt("PARLEY_MAX_QUEUED") ?? file?.MaxQueuedPerUser ?? 10_000,
            RendezvousExpiry = TimeSpan.FromSeconds(rendezvousExpiry > 0 ? rendezvousExpiry : throw new ServerStartException("the rendezvous expiry must be a positive number of seconds")),
            SendsPerSecondPerUser = Positive("PARLEY_SENDS_PER_SECOND", EnvInt("PARLEY_SENDS_PER_SECOND") ?? file?.SendsPerSecondPerUser ?? 200),
            Redis = redis,
            NodeId = nodeId ?? ServerOptions.DefaultNodeId(),
            PollInterval = pollInterval,
            DegradedPollInterval = degradedPollInterval,
        };
    }

    private static TimeSpan Milliseconds(string name, int? fromFile, int fallback) =>
        TimeSpan.FromMilliseconds(Positive(name, EnvInt(name) ?? fromFile ?? fallback));

    private static int Positive(string name, int value) =>
        value > 0 ? value : throw new ServerStartException($"{name} must be a positive number (got {value})");

    internal static string DefaultDataDirectory()
    {
        var xdg = Env("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "parley", "server");
    }

    private static FileSettings? ReadFile(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), FileSettingsJson.Default.FileSettings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ServerStartException($"cannot read settings file {path}: {e.Message}");
        }
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static int? EnvInt(string name) =>
        Env(name) is { } value ? int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new ServerStartException($"{name} must be a number") : null;

    // Generated at build time so the settings file is read without reflection (Native AOT, trimming).
    [JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip)]
    [JsonSerializable(typeof(FileSettings))]
    private sealed partial class FileSettingsJson : JsonSerializerContext;
}
