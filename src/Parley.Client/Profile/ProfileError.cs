using Microsoft.Data.Sqlite;

namespace Parley.Client.Profile;

/// <summary>Throw helpers for the profile store: one place for its messages.</summary>
internal static class ProfileError
{
    // SQLite result codes that mean the file is not a usable profile (https://sqlite.org/rescode.html).
    private const int SqliteError = 1;
    private const int SqliteCorrupt = 11;
    private const int SqliteFormat = 24;
    private const int SqliteNotADatabase = 26;

    public static ProfileException WrongPassphrase() =>
        new(ProfileErrorKind.WrongPassphrase, "wrong passphrase");

    public static ProfileException NoProfile(string directory) =>
        new(ProfileErrorKind.NoProfile, $"no profile in {directory}");

    public static ProfileException AlreadyExists(string directory) =>
        new(ProfileErrorKind.AlreadyExists, $"a profile already exists in {directory}");

    public static ProfileException AlreadyExists(string directory, Exception inner) =>
        new(ProfileErrorKind.AlreadyExists, $"a profile already exists in {directory}", inner);

    public static ProfileException Corrupt(string reason) =>
        new(ProfileErrorKind.Corrupt, $"profile is corrupt: {reason}");

    public static ProfileException Corrupt(string reason, Exception inner) =>
        new(ProfileErrorKind.Corrupt, $"profile is corrupt: {reason}", inner);

    public static ProfileException Corrupt_SealedValue(SealedField field) =>
        Corrupt($"{field} failed authentication");

    public static ProfileException Corrupt_Database(SqliteException inner) =>
        Corrupt($"database error {inner.SqliteErrorCode} ({inner.SqliteExtendedErrorCode})", inner);

    public static ProfileException Corrupt_NewerSchema(long version) =>
        Corrupt($"written by a newer Parley (schema version {version})");

    /// <summary>
    /// Whether a SQLite error means the file is damaged or is not a profile (as opposed to a busy
    /// lock or an I/O failure, which propagate as they are). SQLITE_ERROR covers "no such table".
    /// </summary>
    public static bool MeansCorrupt(SqliteException exception) =>
        exception.SqliteErrorCode is SqliteError or SqliteCorrupt or SqliteFormat or SqliteNotADatabase;
}
