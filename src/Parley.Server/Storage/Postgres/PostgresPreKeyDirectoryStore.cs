using Npgsql;
using NpgsqlTypes;

namespace Parley.Server.Storage.Postgres;

/// <summary>
/// <see cref="IPreKeyDirectoryStore"/> on PostgreSQL. <see cref="TakeBundleAsync"/> deletes its
/// one-time keys with <c>DELETE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING</c>
/// in one transaction: concurrent takers (on any node) lock different rows, never the same one,
/// and none waits for another.
/// </summary>
internal sealed class PostgresPreKeyDirectoryStore(NpgsqlDataSource dataSource) : IPreKeyDirectoryStore
{
    public Task SetSignedPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken) =>
        ReplaceAsync("signed_pre_keys", owner, id, wire, cancellationToken);

    public Task SetLastResortKemPreKeyAsync(string owner, uint id, byte[] wire, CancellationToken cancellationToken) =>
        ReplaceAsync("last_resort_kem_pre_keys", owner, id, wire, cancellationToken);

    public Task AddOneTimePreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken) =>
        AddAsync("one_time_pre_keys", owner, keys, cancellationToken);

    public Task AddOneTimeKemPreKeysAsync(string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken) =>
        AddAsync("one_time_kem_pre_keys", owner, keys, cancellationToken);

    public async Task<StoredBundle?> TakeBundleAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // One round trip; if no bundle can be made, the rollback puts back what was deleted.
                var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        OwnerCommand("SELECT wire FROM signed_pre_keys WHERE owner = $1", owner),
                        OwnerCommand(TakeOneTimeSql("one_time_kem_pre_keys"), owner),
                        OwnerCommand("SELECT wire FROM last_resort_kem_pre_keys WHERE owner = $1", owner),
                        OwnerCommand(TakeOneTimeSql("one_time_pre_keys"), owner),
                    },
                };
                byte[]? signedPreKey, oneTimeKemPreKey, lastResortKemPreKey, oneTimePreKey;
                await using (batch.ConfigureAwait(false))
                {
                    var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        signedPreKey = await ReadWireAsync(reader, cancellationToken).ConfigureAwait(false);
                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                        oneTimeKemPreKey = await ReadWireAsync(reader, cancellationToken).ConfigureAwait(false);
                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                        lastResortKemPreKey = await ReadWireAsync(reader, cancellationToken).ConfigureAwait(false);
                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                        oneTimePreKey = await ReadWireAsync(reader, cancellationToken).ConfigureAwait(false);
                    }
                }

                var kemPreKey = oneTimeKemPreKey ?? lastResortKemPreKey;
                if (signedPreKey is null || kemPreKey is null)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return null;
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new StoredBundle(signedPreKey, kemPreKey, oneTimePreKey);
            }
        }
    }

    public async Task<(int OneTime, int OneTimeKem)> CountPreKeysAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var command = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM one_time_pre_keys WHERE owner = @owner),
                   (SELECT count(*) FROM one_time_kem_pre_keys WHERE owner = @owner)
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("owner", owner);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return (checked((int)reader.GetInt64(0)), checked((int)reader.GetInt64(1)));
            }
        }
    }

    // table is one of this class's constants, never input.
    private static string TakeOneTimeSql(string table) => $"""
        DELETE FROM {table}
        WHERE owner = $1 AND id = (SELECT id FROM {table} WHERE owner = $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING wire
        """;

    private static NpgsqlBatchCommand OwnerCommand(string sql, string owner) =>
        new(sql) { Parameters = { new NpgsqlParameter<string> { TypedValue = owner } } };

    private static async Task<byte[]?> ReadWireAsync(NpgsqlDataReader reader, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetFieldValue<byte[]>(0) : null;

    private async Task ReplaceAsync(string table, string owner, uint id, byte[] wire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(wire);
        var command = dataSource.CreateCommand($"""
            INSERT INTO {table} (owner, id, wire) VALUES (@owner, @id, @wire)
            ON CONFLICT (owner) DO UPDATE SET id = excluded.id, wire = excluded.wire
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("owner", owner);
            command.Parameters.AddWithValue("id", (long)id);
            command.Parameters.AddWithValue("wire", wire);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AddAsync(string table, string owner, IReadOnlyList<(uint Id, byte[] Wire)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        var ids = new long[keys.Count];
        var wires = new byte[keys.Count][];
        for (var i = 0; i < keys.Count; i++)
        {
            ids[i] = keys[i].Id;
            wires[i] = keys[i].Wire ?? throw new ArgumentNullException(nameof(keys));
        }

        // One statement for the whole upload; DO NOTHING also skips an id repeated within it.
        var command = dataSource.CreateCommand($"""
            INSERT INTO {table} (owner, id, wire)
            SELECT @owner, k.id, k.wire FROM unnest(@ids, @wires) AS k (id, wire)
            ON CONFLICT (owner, id) DO NOTHING
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("owner", owner);
            command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = ids });
            command.Parameters.Add(new NpgsqlParameter("wires", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = wires });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
