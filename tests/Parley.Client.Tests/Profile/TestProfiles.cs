using Microsoft.Data.Sqlite;
using Parley.Client.Profile;
using Parley.Protocol.Identity;

namespace Parley.Client.Tests.Profile;

/// <summary>A temporary directory per test, removed afterwards, and cheap profiles in it.</summary>
public sealed class TestProfiles : IDisposable
{
    public const string Passphrase = "correct horse battery staple";

    /// <summary>Argon2id at 1 MiB and one pass: the code path of the real parameters, at test speed.</summary>
    internal static readonly ProfileKdfParameters Cheap = new(1024, 1, 1);

    private readonly string root = Path.Combine(Path.GetTempPath(), "parley-profile-tests-" + Guid.NewGuid().ToString("N"));

    public TestProfiles() => Directory.CreateDirectory(root);

    public string PathOf(string name) => Path.Combine(root, name);

    public static ProfileInfo Info(string userName) => new(
        userName,
        "https://127.0.0.1:7443",
        "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
        DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123));

    public ProfileStore Create(string userName)
    {
        using var identity = IdentityKeyPair.Generate();
        return ProfileStore.Create(PathOf(userName), Passphrase, Info(userName), identity, Cheap);
    }

    public ProfileStore Open(string userName) => ProfileStore.Open(PathOf(userName), Passphrase);

    /// <summary>A raw connection to a closed profile's file, for inspecting or tampering with it.</summary>
    public SqliteConnection Raw(string userName)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(PathOf(userName), ProfileStore.FileName),
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
