using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// <see cref="IPreKeyDirectoryStore"/> on SQLite. <see cref="TakeBundleAsync"/> reads and deletes
/// inside one BEGIN IMMEDIATE transaction, so no two callers (threads or processes) can take the
/// same one-time key.
/// </summary>
internal sealed class SqlitePreKeyDirectoryStore(SqliteDatabase database) : IPreKeyDirectoryStore
{
    public Task SetSignedPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken) =>
        ReplaceAsync("signed_pre_keys", owner, id, wire, cancellationToken);

    public Task SetLastResortKemPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken) =>
        ReplaceAsync("last_resort_kem_pre_keys", owner, id, wire, cancellationToken);

    public Task AddOneTimePreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken) =>
        AddAsync("one_time_pre_keys", owner, keys, cancellationToken);

    public Task AddOneTimeKemPreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken) =>
        AddAsync("one_time_kem_pre_keys", owner, keys, cancellationToken);

    public Task<StoredBundle?> TakeBundleAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return database.WriteAsync(async (connection, ct) =>
        {
            // Nothing is deleted before we know a bundle can be made, so returning null changes nothing.
            var signedPreKey = await SelectWireAsync(connection, "SELECT wire FROM signed_pre_keys WHERE owner = $owner", owner, ct).ConfigureAwait(false);
            if (signedPreKey is null)
            {
                return null;
            }

            var kemPreKey = await TakeOneTimeAsync(connection, "one_time_kem_pre_keys", owner, ct).ConfigureAwait(false)
                ?? await SelectWireAsync(connection, "SELECT wire FROM last_resort_kem_pre_keys WHERE owner = $owner", owner, ct).ConfigureAwait(false);
            if (kemPreKey is null)
            {
                return null;
            }

            var oneTimePreKey = await TakeOneTimeAsync(connection, "one_time_pre_keys", owner, ct).ConfigureAwait(false);
            return new StoredBundle(signedPreKey, kemPreKey, oneTimePreKey);
        }, cancellationToken);
    }

    public Task<(int OneTime, int OneTimeKem)> CountPreKeysAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return database.ReadAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT (SELECT count(*) FROM one_time_pre_keys WHERE owner = $owner),
                       (SELECT count(*) FROM one_time_kem_pre_keys WHERE owner = $owner)
                """;
            command.Parameters.AddWithValue("$owner", owner);
            using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            return (reader.GetInt32(0), reader.GetInt32(1));
        }, cancellationToken);
    }

    // table is one of this class's constants, never input.
    private async Task ReplaceAsync(string table, string owner, uint id, byte[] wire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(wire);
        await database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                INSERT INTO {table} (owner, id, wire) VALUES ($owner, $id, $wire)
                ON CONFLICT (owner) DO UPDATE SET id = excluded.id, wire = excluded.wire
                """;
            command.Parameters.AddWithValue("$owner", owner);
            command.Parameters.AddWithValue("$id", (long)id);
            command.Parameters.AddWithValue("$wire", wire);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task AddAsync(string table, string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        await database.WriteAsync(async (connection, ct) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO {table} (owner, id, wire) VALUES ($owner, $id, $wire) ON CONFLICT (owner, id) DO NOTHING";
            command.Parameters.AddWithValue("$owner", owner);
            var id = command.Parameters.Add("$id", SqliteType.Integer);
            var wire = command.Parameters.Add("$wire", SqliteType.Blob);
            var added = 0;
            foreach (var key in keys)
            {
                ArgumentNullException.ThrowIfNull(key.Wire, nameof(keys));
                id.Value = (long)key.Id;
                wire.Value = key.Wire;
                added += await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return added;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]?> TakeOneTimeAsync(SqliteConnection connection, string table, string owner, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            DELETE FROM {table}
            WHERE owner = $owner AND id = (SELECT id FROM {table} WHERE owner = $owner ORDER BY id LIMIT 1)
            RETURNING wire
            """;
        command.Parameters.AddWithValue("$owner", owner);
        return (byte[]?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]?> SelectWireAsync(SqliteConnection connection, string sql, string owner, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$owner", owner);
        return (byte[]?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
