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
            var command = database.Command(connection, $"SELECT {UserColumns} FROM users WHERE name = $name");
            command.Parameters.AddWithValue("$name", name);
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadUser(reader) : null;
        }, cancellationToken);
    }

    public Task<MailboxRecipient?> GetRecipientAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        return database.ReadAsync<MailboxRecipient?>(async (connection, ct) =>
        {
            var command = database.Command(connection, """
                SELECT users.revoked_at IS NOT NULL, coalesce(mailbox_depths.queued, 0)
                FROM users LEFT JOIN mailbox_depths ON mailbox_depths.recipient = users.name
                WHERE users.name = $name
                """);
            command.Parameters.AddWithValue("$name", name);
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return await reader.ReadAsync(ct).ConfigureAwait(false) ? new MailboxRecipient(reader.GetBoolean(0), reader.GetInt32(1)) : null;
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
            AddUserParameters(command, user);
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
            if (await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
            {
                return false;
            }

            await RecordRevokedCertificateAsync(connection, name, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<bool> TryReplaceRevokedUserAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.RevokedAt is not null)
        {
            throw new ArgumentException("the replacement of a revoked user must not be revoked itself", nameof(user));
        }

        return database.WriteAsync(async (connection, ct) =>
        {
            // Already recorded by RevokeUserAsync or the 0002 backfill; repeated (a no-op then) so
            // that a revocation written without it (a node still on schema v1) is never lost.
            await RecordRevokedCertificateAsync(connection, user.Name, ct).ConfigureAwait(false);

            // An UPDATE, not a DELETE and INSERT: the envelopes queued for the name refer to the row
            // with ON DELETE CASCADE, and they stay.
            using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    UPDATE users SET
                        signing_key = $signing_key, dh_key = $dh_key, dh_key_signature = $dh_key_signature,
                        certificate_pem = $certificate_pem, certificate_serial = $certificate_serial,
                        registered_at = $registered_at, revoked_at = $revoked_at
                    WHERE name = $name AND revoked_at IS NOT NULL
                    """;
                AddUserParameters(command, user);
                if (await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                {
                    return false;
                }
            }

            using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    DELETE FROM signed_pre_keys WHERE owner = $name;
                    DELETE FROM last_resort_kem_pre_keys WHERE owner = $name;
                    DELETE FROM one_time_pre_keys WHERE owner = $name;
                    DELETE FROM one_time_kem_pre_keys WHERE owner = $name;
                    """;
                command.Parameters.AddWithValue("$name", user.Name);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<(string Serial, DateTimeOffset RevokedAt)>> ListRevokedCertificatesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<(string Serial, DateTimeOffset RevokedAt)>>(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT serial, revoked_at FROM revoked_certificates ORDER BY revoked_at, serial";
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var revoked = new List<(string Serial, DateTimeOffset RevokedAt)>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                revoked.Add((reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
            }

            return revoked;
        }, cancellationToken);

    public Task<bool> IsIdentityRevokedAsync(byte[] signingKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        return database.ReadAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM revoked_certificates WHERE signing_key = $signing_key)";
            command.Parameters.AddWithValue("$signing_key", signingKey);
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))! == 1;
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

    private static void AddUserParameters(SqliteCommand command, UserRecord user)
    {
        command.Parameters.AddWithValue("$name", user.Name);
        command.Parameters.AddWithValue("$signing_key", user.SigningKey);
        command.Parameters.AddWithValue("$dh_key", user.DhKey);
        command.Parameters.AddWithValue("$dh_key_signature", user.DhKeySignature);
        command.Parameters.AddWithValue("$certificate_pem", user.CertificatePem);
        command.Parameters.AddWithValue("$certificate_serial", user.CertificateSerial);
        command.Parameters.AddWithValue("$registered_at", user.RegisteredAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$revoked_at", (object?)user.RevokedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
    }

    /// <summary>Records the name's current certificate as revoked, if the row is revoked and the serial not yet recorded.</summary>
    private static async Task RecordRevokedCertificateAsync(SqliteConnection connection, string name, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO revoked_certificates (serial, name, revoked_at, signing_key)
            SELECT certificate_serial, name, revoked_at, signing_key FROM users WHERE name = $name AND revoked_at IS NOT NULL
            ON CONFLICT (serial) DO NOTHING
            """;
        command.Parameters.AddWithValue("$name", name);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
