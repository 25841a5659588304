using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sqlite;

/// <summary>The prepared commands kept for one connection, by SQL text (see <see cref="SqliteDatabase.Command"/>).</summary>
internal sealed class SqliteStatements : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);

    /// <summary>
    /// The command for <paramref name="sql"/> with exactly <paramref name="parameterNames"/>, in that
    /// order (none: the parameters a caller added last time are removed). Parameters that already
    /// match are kept, and the caller sets every one's value before each run.
    /// </summary>
    internal SqliteCommand Get(SqliteConnection connection, string sql, ReadOnlySpan<string> parameterNames)
    {
        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            commands.Add(sql, command);
        }

        var parameters = command.Parameters;
        var kept = parameters.Count == parameterNames.Length;
        for (var i = 0; kept && i < parameterNames.Length; i++)
        {
            kept = string.Equals(parameters[i].ParameterName, parameterNames[i], StringComparison.Ordinal);
        }

        if (!kept)
        {
            parameters.Clear();
            foreach (var name in parameterNames)
            {
                parameters.Add(new SqliteParameter { ParameterName = name });
            }
        }

        return command;
    }

    public void Dispose()
    {
        foreach (var command in commands.Values)
        {
            command.Dispose();
        }

        commands.Clear();
    }
}
