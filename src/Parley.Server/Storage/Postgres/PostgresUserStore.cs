using Npgsql;
using NpgsqlTypes;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// <see cref="IUserStore"/> on PostgreSQL. Every operation is one statement (atomic on its own;
/// data-modifying CTEs where one changes several tables); times are timestamptz, written as UTC
/// and truncated to the millisecond like the SQLite engine.
/// </summary>
internal sealed class PostgresUserStore(NpgsqlDataSource dataSource) : IUserStore
{
    private const string UserColumns =
        "name, signing_key, dh_key, dh_key_signature, certificate_pem, certificate_serial, registered_at, revoked_at";

    public async Task<MailboxRecipient?> GetRecipientAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var command = dataSource.CreateCommand("""
            SELECT users.revoked_at IS NOT NULL, coalesce(mailbox_depths.queued, 0)::int
            FROM users LEFT JOIN mailbox_depths ON mailbox_depths.recipient = users.name
            WHERE users.name = @name
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("name", name);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new MailboxRecipient(reader.GetBoolean(0), reader.GetInt32(1)) : null;
            }
        }
    }

    public async Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var command = dataSource.CreateCommand($"SELECT {UserColumns} FROM users WHERE name = @name");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("name", name);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadUser(reader) : null;
            }
        }
    }

    public async Task<bool> TryCreateUserAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var command = dataSource.CreateCommand($"""
            INSERT INTO users ({UserColumns})
            VALUES (@name, @signing_key, @dh_key, @dh_key_signature, @certificate_pem, @certificate_serial, @registered_at, @revoked_at)
            ON CONFLICT (name) DO NOTHING
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("name", user.Name);
            command.Parameters.AddWithValue("signing_key", user.SigningKey);
            command.Parameters.AddWithValue("dh_key", user.DhKey);
            command.Parameters.AddWithValue("dh_key_signature", user.DhKeySignature);
            command.Parameters.AddWithValue("certificate_pem", user.CertificatePem);
            command.Parameters.AddWithValue("certificate_serial", user.CertificateSerial);
            command.Parameters.AddWithValue("registered_at", Stored(user.RegisteredAt));
            command.Parameters.Add(new NpgsqlParameter("revoked_at", NpgsqlDbType.TimestampTz)
            {
                Value = user.RevokedAt is { } revoked ? Stored(revoked) : DBNull.Value,
            });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    public async Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken)
    {
        var command = dataSource.CreateCommand($"SELECT {UserColumns} FROM users ORDER BY name");
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var users = new List<UserRecord>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    users.Add(ReadUser(reader));
                }

                return users;
            }
        }
    }

    public async Task<bool> RevokeUserAsync(string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        // One statement: the revocation and its record in revoked_certificates commit together.
        var command = dataSource.CreateCommand("""
            WITH revoked AS (
                UPDATE users SET revoked_at = @at WHERE name = @name AND revoked_at IS NULL
                RETURNING certificate_serial, name, revoked_at, signing_key
            ), recorded AS (
                INSERT INTO revoked_certificates (serial, name, revoked_at, signing_key)
                SELECT certificate_serial, name, revoked_at, signing_key FROM revoked
                ON CONFLICT (serial) DO NOTHING
            )
            SELECT count(*) FROM revoked
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("name", name);
            command.Parameters.AddWithValue("at", Stored(at));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
        }
    }

    public async Task<bool> TryReplaceRevokedUserAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.RevokedAt is not null)
        {
            throw new ArgumentException("the replacement of a revoked user must not be revoked itself", nameof(user));
        }

        // One statement. "recorded" repeats what RevokeUserAsync or the 0002 backfill already did (a
        // no-op then), so that a revocation written by a node still on schema v1 is never lost.
        // An UPDATE, not a DELETE and INSERT: the envelopes queued for the name refer to the row with
        // ON DELETE CASCADE, and they stay. Two concurrent replacements serialize on the row lock;
        // the second re-checks revoked_at on the new row, finds it NULL and changes nothing.
        var command = dataSource.CreateCommand("""
            WITH recorded AS (
                INSERT INTO revoked_certificates (serial, name, revoked_at, signing_key)
                SELECT certificate_serial, name, revoked_at, signing_key FROM users WHERE name = @name AND revoked_at IS NOT NULL
                ON CONFLICT (serial) DO NOTHING
            ), replaced AS (
                UPDATE users SET
                    signing_key = @signing_key, dh_key = @dh_key, dh_key_signature = @dh_key_signature,
                    certificate_pem = @certificate_pem, certificate_serial = @certificate_serial,
                    registered_at = @registered_at, revoked_at = NULL
                WHERE name = @name AND revoked_at IS NOT NULL
                RETURNING name
            ), signed AS (
                DELETE FROM signed_pre_keys WHERE owner IN (SELECT name FROM replaced)
            ), last_resort AS (
                DELETE FROM last_resort_kem_pre_keys WHERE owner IN (SELECT name FROM replaced)
            ), one_time AS (
                DELETE FROM one_time_pre_keys WHERE owner IN (SELECT name FROM replaced)
            ), one_time_kem AS (
                DELETE FROM one_time_kem_pre_keys WHERE owner IN (SELECT name FROM replaced)
            )
            SELECT count(*) FROM replaced
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("name", user.Name);
            command.Parameters.AddWithValue("signing_key", user.SigningKey);
            command.Parameters.AddWithValue("dh_key", user.DhKey);
            command.Parameters.AddWithValue("dh_key_signature", user.DhKeySignature);
            command.Parameters.AddWithValue("certificate_pem", user.CertificatePem);
            command.Parameters.AddWithValue("certificate_serial", user.CertificateSerial);
            command.Parameters.AddWithValue("registered_at", Stored(user.RegisteredAt));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
        }
    }

    public async Task<IReadOnlyList<(string Serial, DateTimeOffset RevokedAt)>> ListRevokedCertificatesAsync(CancellationToken cancellationToken)
    {
        var command = dataSource.CreateCommand("SELECT serial, revoked_at FROM revoked_certificates ORDER BY revoked_at, serial");
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var revoked = new List<(string Serial, DateTimeOffset RevokedAt)>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    revoked.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
                }

                return revoked;
            }
        }
    }

    public async Task<bool> IsIdentityRevokedAsync(byte[] signingKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM revoked_certificates WHERE signing_key = @signing_key)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("signing_key", signingKey);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task CreateInviteAsync(byte[] inviteHash, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inviteHash);
        var command = dataSource.CreateCommand("INSERT INTO invites (hash, expires_at) VALUES (@hash, @expires) ON CONFLICT (hash) DO NOTHING");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("hash", inviteHash);
            command.Parameters.AddWithValue("expires", Stored(expires));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> TryConsumeInviteAsync(byte[] inviteHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inviteHash);
        // One UPDATE: two concurrent consumers serialize on the row; the second sees used_at set.
        var command = dataSource.CreateCommand("UPDATE invites SET used_at = @now WHERE hash = @hash AND used_at IS NULL AND expires_at > @now");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("hash", inviteHash);
            command.Parameters.AddWithValue("now", Stored(now));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>UTC (Npgsql writes only offset 0 to timestamptz) and whole milliseconds.</summary>
    private static DateTimeOffset Stored(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    private static UserRecord ReadUser(NpgsqlDataReader reader) => new(
        Name: reader.GetString(0),
        SigningKey: reader.GetFieldValue<byte[]>(1),
        DhKey: reader.GetFieldValue<byte[]>(2),
        DhKeySignature: reader.GetFieldValue<byte[]>(3),
        CertificatePem: reader.GetString(4),
        CertificateSerial: reader.GetString(5),
        RegisteredAt: reader.GetFieldValue<DateTimeOffset>(6),
        RevokedAt: reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));
}
