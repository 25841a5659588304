using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Protocol.Identity;
using Parley.Protocol.Storage;

namespace Parley.Client.Profile;

/// <summary>
/// A user's profile on this device: one SQLite file, <c>profile.db</c>, in its own directory
/// (0700, file 0600), written with WAL and synchronous=FULL. The identity, prekeys, sessions,
/// pinned contact keys and every message body are sealed with XChaCha20-Poly1305 under a key
/// derived by Argon2id from the passphrase; names, ids, flags and times stay in the clear
/// (<see cref="ProfileSchema"/> lists which column is which). It is the protocol's
/// <see cref="IPreKeyStore"/>, <see cref="ISessionStore"/> and <see cref="IIdentityKeyStore"/>,
/// and the client's outbox, inbox and history. Thread-safe; dispose it to close the file.
/// </summary>
public sealed partial class ProfileStore : IDisposable
{
    /// <summary>The database file's name inside the profile directory.</summary>
    public const string FileName = "profile.db";

    private const string StagingSuffix = ".new";
    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // SQLITE_CONSTRAINT (https://sqlite.org/rescode.html): a unique key already taken.
    private const int SqliteConstraint = 19;

    private static readonly SealedField CheckField = Meta("check");
    private static ReadOnlySpan<byte> CheckValue => "parley-profile-check-v1"u8;

    private readonly SqliteConnection connection;
    private readonly ProfileKey key;
    private readonly Lock gate = new();
    private SqliteTransaction? transaction;
    private bool disposed;

    private ProfileStore(string directory, SqliteConnection connection, ProfileKey key, ProfileInfo info, IdentityKeyPair identity)
    {
        Directory = directory;
        this.connection = connection;
        this.key = key;
        Info = info;
        Identity = identity;
    }

    /// <summary>The profile directory (full path).</summary>
    public string Directory { get; }

    /// <summary>Who the profile belongs to and which server it uses.</summary>
    public ProfileInfo Info { get; }

    /// <summary>The user's identity, loaded once on open and disposed with the store.</summary>
    public IdentityKeyPair Identity { get; }

    /// <summary>
    /// Makes a new profile in <paramref name="directory"/> (created 0700 if missing) holding
    /// <paramref name="info"/> and a copy of <paramref name="identity"/> (the caller keeps its own).
    /// The file appears complete or not at all. Throws <see cref="ProfileException"/>
    /// (<see cref="ProfileErrorKind.AlreadyExists"/>) if the directory already has a profile.
    /// </summary>
    public static ProfileStore Create(string directory, string passphrase, ProfileInfo info, IdentityKeyPair identity) =>
        Create(directory, passphrase, info, identity, ProfileKdfParameters.Default);

    /// <summary><see cref="Create(string, string, ProfileInfo, IdentityKeyPair)"/> with chosen Argon2id costs (tests use cheap ones).</summary>
    internal static ProfileStore Create(string directory, string passphrase, ProfileInfo info, IdentityKeyPair identity, ProfileKdfParameters kdf)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(info.UserName, nameof(info));
        ArgumentNullException.ThrowIfNull(info.ServerUri, nameof(info));
        ArgumentNullException.ThrowIfNull(info.CaCertificatePem, nameof(info));
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(kdf);
        if (!kdf.IsValid)
        {
            throw new ArgumentException("Argon2id parameters out of range.", nameof(kdf));
        }

        var full = Path.GetFullPath(directory);
        var path = Path.Combine(full, FileName);
        if (File.Exists(path))
        {
            throw ProfileError.AlreadyExists(full);
        }

        CreatePrivateDirectory(full);
        var staging = path + StagingSuffix;
        DeleteDatabaseFiles(staging);
        var salt = RandomNumberGenerator.GetBytes(ProfileKey.SaltSize);
        var profileKey = ProfileKey.Derive(passphrase, salt, kdf);
        try
        {
            CreatePrivateFile(staging);
            using (var staged = Connect(staging))
            {
                using (var wal = Command(staged, null, "PRAGMA journal_mode = WAL"))
                {
                    wal.ExecuteNonQuery();
                }

                ProfileSchema.Migrate(staged, 0);
                using var initial = staged.BeginTransaction();
                PutMeta(staged, initial, "kdf", "argon2id");
                PutMeta(staged, initial, "kdf_memory_kib", kdf.MemoryKib);
                PutMeta(staged, initial, "kdf_iterations", kdf.Iterations);
                PutMeta(staged, initial, "kdf_parallelism", kdf.Parallelism);
                PutMeta(staged, initial, "kdf_salt", salt);
                PutMeta(staged, initial, "check", profileKey.Seal(CheckField, CheckValue));
                PutMeta(staged, initial, "next_prekey_id", 1L);
                PutSealedMeta(staged, initial, profileKey, "user_name", Encoding.UTF8.GetBytes(info.UserName));
                PutSealedMeta(staged, initial, profileKey, "server_uri", Encoding.UTF8.GetBytes(info.ServerUri));
                PutSealedMeta(staged, initial, profileKey, "ca_certificate_pem", Encoding.UTF8.GetBytes(info.CaCertificatePem));
                var created = new byte[sizeof(long)];
                BinaryPrimitives.WriteInt64BigEndian(created, ToStored(info.CreatedAt));
                PutSealedMeta(staged, initial, profileKey, "created_at", created);
                var exported = identity.Export();
                try
                {
                    PutSealedMeta(staged, initial, profileKey, "identity", exported);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(exported);
                }

                initial.Commit();
            }

            try
            {
                File.Move(staging, path, overwrite: false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw ProfileError.AlreadyExists(full, e);
            }

            return Load(full, path, profileKey, migrateFrom: ProfileSchema.CurrentVersion);
        }
        catch
        {
            profileKey.Dispose();
            DeleteDatabaseFiles(staging);
            throw;
        }
    }

    /// <summary>
    /// Opens the profile in <paramref name="directory"/>. Throws <see cref="ProfileException"/>:
    /// <see cref="ProfileErrorKind.WrongPassphrase"/> ("wrong passphrase", and nothing was changed),
    /// <see cref="ProfileErrorKind.NoProfile"/>, or <see cref="ProfileErrorKind.Corrupt"/>.
    /// </summary>
    public static ProfileStore Open(string directory, string passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(passphrase);
        var full = Path.GetFullPath(directory);
        var path = Path.Combine(full, FileName);
        if (!File.Exists(path))
        {
            throw ProfileError.NoProfile(full);
        }

        ProfileKey? profileKey = null;
        long version;
        try
        {
            // Only clear meta values are read before the passphrase is checked, and nothing is written.
            using var probe = Connect(path);
            version = ProfileSchema.ReadVersion(probe);
            if (version == 0)
            {
                throw ProfileError.Corrupt("not a Parley profile");
            }

            if (version > ProfileSchema.CurrentVersion)
            {
                throw ProfileError.Corrupt_NewerSchema(version);
            }

            var kdf = ReadKdfParameters(probe);
            var salt = GetMeta(probe, "kdf_salt") as byte[];
            var check = GetMeta(probe, "check") as byte[];
            if (salt is not { Length: ProfileKey.SaltSize } || check is null)
            {
                throw ProfileError.Corrupt("key derivation salt or check value missing");
            }

            profileKey = ProfileKey.Derive(passphrase, salt, kdf);
            if (!profileKey.TryOpen(CheckField, check, out var value) || !value.AsSpan().SequenceEqual(CheckValue))
            {
                throw ProfileError.WrongPassphrase();
            }
        }
        catch (SqliteException e) when (ProfileError.MeansCorrupt(e))
        {
            profileKey?.Dispose();
            throw ProfileError.Corrupt_Database(e);
        }
        catch
        {
            profileKey?.Dispose();
            throw;
        }

        try
        {
            return Load(full, path, profileKey, version);
        }
        catch
        {
            profileKey.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            connection.Dispose();
            key.Dispose();
            Identity.Dispose();
        }
    }

    /// <summary>Names the directory only.</summary>
    public override string ToString() => $"ProfileStore({Directory})";

    private static ProfileStore Load(string directory, string path, ProfileKey profileKey, long migrateFrom)
    {
        var opened = Connect(path);
        try
        {
            using (var wal = Command(opened, null, "PRAGMA journal_mode = WAL"))
            {
                wal.ExecuteNonQuery();
            }

            ProfileSchema.Migrate(opened, migrateFrom);
            var info = new ProfileInfo(
                Encoding.UTF8.GetString(GetSealedMeta(opened, profileKey, "user_name")),
                Encoding.UTF8.GetString(GetSealedMeta(opened, profileKey, "server_uri")),
                Encoding.UTF8.GetString(GetSealedMeta(opened, profileKey, "ca_certificate_pem")),
                FromStored(ReadInt64(GetSealedMeta(opened, profileKey, "created_at"), "created_at")));
            var exported = GetSealedMeta(opened, profileKey, "identity");
            IdentityKeyPair identity;
            try
            {
                identity = IdentityKeyPair.Import(exported);
            }
            catch (ParleyProtocolException e)
            {
                throw ProfileError.Corrupt("stored identity unreadable", e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(exported);
            }

            return new ProfileStore(directory, opened, profileKey, info, identity);
        }
        catch (SqliteException e) when (ProfileError.MeansCorrupt(e))
        {
            opened.Dispose();
            throw ProfileError.Corrupt_Database(e);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    private static ProfileKdfParameters ReadKdfParameters(SqliteConnection probe)
    {
        if (GetMeta(probe, "kdf") as string != "argon2id"
            || GetMeta(probe, "kdf_memory_kib") is not long memory
            || GetMeta(probe, "kdf_iterations") is not long iterations
            || GetMeta(probe, "kdf_parallelism") is not long parallelism
            || parallelism is < 1 or > int.MaxValue)
        {
            throw ProfileError.Corrupt("key derivation parameters missing");
        }

        var kdf = new ProfileKdfParameters(memory, iterations, (int)parallelism);
        return kdf.IsValid ? kdf : throw ProfileError.Corrupt("key derivation parameters out of range");
    }

    private static SqliteConnection Connect(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();

            // Per connection; none of them writes to the file. secure_delete zeroes deleted
            // prekeys and replaced sessions in the database file instead of leaving them in free pages.
            using var pragmas = Command(connection, null, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;");
            pragmas.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void CreatePrivateDirectory(string directory)
    {
        if (System.IO.Directory.Exists(directory))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, PrivateDirectoryMode);
            File.SetUnixFileMode(directory, PrivateDirectoryMode);
        }
    }

    private static void CreatePrivateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        using (new FileStream(path, options))
        {
        }

        if (!OperatingSystem.IsWindows())
        {
            // SQLite gives the -wal and -shm files the database file's mode.
            File.SetUnixFileMode(path, PrivateFileMode);
        }
    }

    private static void DeleteDatabaseFiles(string path)
    {
        foreach (var suffix in (ReadOnlySpan<string>)["", "-wal", "-shm", "-journal"])
        {
            File.Delete(path + suffix);
        }
    }

    // ---- plumbing shared by the partial files ----

    private static SealedField Meta(string name) => new("meta", "value", name);

    private static long ToStored(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromStored(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private static long ReadInt64(byte[] bytes, string what) =>
        bytes.Length == sizeof(long) ? BinaryPrimitives.ReadInt64BigEndian(bytes) : throw ProfileError.Corrupt($"{what} malformed");

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static object? GetMeta(SqliteConnection connection, string name)
    {
        using var command = Command(connection, null, "SELECT value FROM meta WHERE key = $key", ("$key", name));
        return command.ExecuteScalar();
    }

    private static void PutMeta(SqliteConnection connection, SqliteTransaction? transaction, string name, object value)
    {
        using var command = Command(
            connection,
            transaction,
            "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ("$key", name),
            ("$value", value));
        command.ExecuteNonQuery();
    }

    private static byte[] GetSealedMeta(SqliteConnection connection, ProfileKey profileKey, string name) =>
        GetMeta(connection, name) is byte[] sealedValue ? profileKey.Open(Meta(name), sealedValue) : throw ProfileError.Corrupt($"meta {name} missing");

    private static void PutSealedMeta(SqliteConnection connection, SqliteTransaction transaction, ProfileKey profileKey, string name, ReadOnlySpan<byte> plaintext) =>
        PutMeta(connection, transaction, name, profileKey.Seal(Meta(name), plaintext));

    private static bool IsConstraintViolation(SqliteException exception) => exception.SqliteErrorCode == SqliteConstraint;

    private SqliteCommand Command(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        Command(connection, transaction, sql, parameters);

    private int Execute(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteScalar();
    }

    private static DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    /// <summary>Runs a read under the lock, mapping a damaged file to <see cref="ProfileErrorKind.Corrupt"/>.</summary>
    private T Read<T>(Func<T> body)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                return body();
            }
            catch (SqliteException e) when (ProfileError.MeansCorrupt(e))
            {
                throw ProfileError.Corrupt_Database(e);
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> in one IMMEDIATE transaction: all of its writes commit, or none do.</summary>
    private T Write<T>(Func<T> body)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                using var current = connection.BeginTransaction(deferred: false);
                transaction = current;
                try
                {
                    var result = body();
                    current.Commit();
                    return result;
                }
                finally
                {
                    transaction = null;
                }
            }
            catch (SqliteException e) when (ProfileError.MeansCorrupt(e))
            {
                throw ProfileError.Corrupt_Database(e);
            }
        }
    }

    private void Write(Action body) => Write(() =>
    {
        body();
        return true;
    });
}
