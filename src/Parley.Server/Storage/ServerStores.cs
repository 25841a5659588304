using Parley.Server.Hosting;

namespace Parley.Server.Storage;

/// <summary>Opens the configured storage engine and applies its migrations.</summary>
internal static class ServerStores
{
    internal const string SqliteFileName = "parley.db";

    internal static async Task<IServerStore> OpenAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        IServerStore store = options.Storage switch
        {
            StorageEngine.Sqlite => new Sqlite.SqliteServerStore(Path.Combine(options.DataDirectory, SqliteFileName)),
            StorageEngine.Postgres => new Postgres.PostgresServerStore(
                options.PostgresConnectionString ?? throw new ServerStartException("--storage postgres needs --postgres \"Host=...;Username=...;Database=...\"")),
            _ => throw new ServerStartException($"unknown storage engine {options.Storage}"),
        };

        try
        {
            await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw new ServerStartException($"cannot open {options.Storage.ToString().ToLowerInvariant()} storage: {e.Message}", e);
        }
    }
}
