using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sqlite;

/// <summary><see cref="IUserStore"/> on SQLite. Times are stored as Unix milliseconds.</summary>
internal sealed class SqliteUserStore(SqliteDatabase database) : IUserStore
{
    private const string UserColumns =
        "name, signing_key, dh_key, dh_key_signature, certificate_pem, certificate_serial, registered_at, revoked_at";

    public Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        return database.ReadAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {UserColumns} FROM users WHERE name = $name";
            command.Parameters.AddWithValue("$name", name);
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadUser(reader) : null;
        }, cancellationToken);
    }

    public Task<bool> TryCreateUserAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                INSERT INTO users ({UserColumns})
                VALUES ($name, $signing_key, $dh_key, $dh_key_signature, $certificate_pem, $certificate_serial, $registered_at, $revoked_at)
                ON CONFLICT (name) DO NOTHING
                """;
            command.Parameters.AddWithValue("$name", user.Name);
            command.Parameters.AddWithValue("$signing_key", user.SigningKey);
            command.Parameters.AddWithValue("$dh_key", user.DhKey);
            command.Parameters.AddWithValue("$dh_key_signature", user.DhKeySignature);
            command.Parameters.AddWithValue("$certificate_pem", user.CertificatePem);
            command.Parameters.AddWithValue("$certificate_serial", user.CertificateSerial);
            command.Parameters.AddWithValue("$registered_at", user.RegisteredAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$revoked_at", (object?)user.RevokedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<UserRecord>>(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {UserColumns} FROM users ORDER BY name";
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var users = new List<UserRecord>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                users.Add(ReadUser(reader));
            }

            return users;
        }, cancellationToken);

    public Task<bool> RevokeUserAsync(string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        return database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE users SET revoked_at = $at WHERE name = $name AND revoked_at IS NULL";
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public Task CreateInviteAsync(byte[] inviteHash, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inviteHash);
        return database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO invites (hash, expires_at) VALUES ($hash, $expires) ON CONFLICT (hash) DO NOTHING";
            command.Parameters.AddWithValue("$hash", inviteHash);
            command.Parameters.AddWithValue("$expires", expires.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<bool> TryConsumeInviteAsync(byte[] inviteHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inviteHash);
        return database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE invites SET used_at = $now WHERE hash = $hash AND used_at IS NULL AND expires_at > $now";
            command.Parameters.AddWithValue("$hash", inviteHash);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    private static UserRecord ReadUser(SqliteDataReader reader) => new(
        Name: reader.GetString(0),
        SigningKey: reader.GetFieldValue<byte[]>(1),
        DhKey: reader.GetFieldValue<byte[]>(2),
        DhKeySignature: reader.GetFieldValue<byte[]>(3),
        CertificatePem: reader.GetString(4),
        CertificateSerial: reader.GetString(5),
        RegisteredAt: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
        RevokedAt: reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)));
}
