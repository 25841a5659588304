namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// Shared by the contract tests: a temporary directory for SQLite files and a PostgreSQL server
/// (<see cref="PostgresCluster"/>), started on first use so that a run filtered to SQLite does not
/// pay for it. Without PostgreSQL the PostgreSQL cases fail with the reason; they never pass.
/// </summary>
public sealed class StorageFixture : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("parley-store-tests-").FullName;
    private readonly Lazy<Task<PostgresCluster>> postgres = new(PostgresCluster.FromEnvironmentAsync);

    /// <summary>A fresh, empty database of the engine.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync(Engine engine) => engine switch
    {
        Engine.Sqlite => new TestDatabase(engine, Path.Combine(directory, $"{Guid.NewGuid():N}.db")),
        Engine.Postgres => new TestDatabase(engine, await (await postgres.Value).CreateDatabaseAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(engine)),
    };

    /// <summary>A migrated store on a fresh database of the engine.</summary>
    internal async Task<Parley.Server.Storage.IServerStore> OpenFreshAsync(Engine engine) =>
        await (await CreateDatabaseAsync(engine)).OpenAsync();

    /// <summary>The shared PostgreSQL server (started if need be).</summary>
    public Task<PostgresCluster> PostgresAsync() => postgres.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (postgres.IsValueCreated && postgres.Value.IsCompletedSuccessfully)
        {
            await postgres.Value.Result.DisposeAsync();
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The contract tests share one <see cref="StorageFixture"/> (and so one PostgreSQL server).</summary>
[CollectionDefinition(Name)]
public sealed class SharedStorage : ICollectionFixture<StorageFixture>
{
    public const string Name = "Storage engines";
}
