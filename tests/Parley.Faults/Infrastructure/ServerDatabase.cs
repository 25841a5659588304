using Microsoft.Data.Sqlite;

namespace Parley.EndToEnd;

/// <summary>
/// The SQLite file of a stopped real server, opened the way a malicious operator would: directly,
/// to change what the server will serve. Every edit commits before the server starts again.
/// </summary>
internal sealed class ServerDatabase(ServerProcess server)
{
    private string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(server.DataDirectory, "parley.db"),
        Pooling = false,
    }.ConnectionString;

    internal async Task<List<(long Sequence, byte[] MessageId, string Sender, byte[] Body)>> EnvelopesForAsync(string recipient)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, message_id, sender, body FROM envelopes WHERE recipient = $r ORDER BY sequence";
        command.Parameters.AddWithValue("$r", recipient);
        var rows = new List<(long, byte[], string, byte[])>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), (byte[])reader[1], reader.GetString(2), (byte[])reader[3]));
        }

        return rows;
    }

    internal Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters) => ExecuteAsync(sql, parameters.AsEnumerable());

    private async Task<int> ExecuteAsync(string sql, IEnumerable<(string Name, object Value)> parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync();
    }

    internal async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync();
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
