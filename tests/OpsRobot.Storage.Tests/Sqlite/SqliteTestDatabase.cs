using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Storage.Sqlite;

namespace OpsRobot.Storage.Tests.Sqlite;

internal static class SqliteTestDatabase
{
    public static SqliteDatabase Create(string path, Action<SqliteOptions>? configure = null)
    {
        var options = new SqliteOptions { Path = path };
        configure?.Invoke(options);
        return new SqliteDatabase(Options.Create(options), NullLogger<SqliteDatabase>.Instance);
    }

    /// <summary>Runs one query on a connection of <paramref name="database"/> and returns the first column of the first row.</summary>
    public static async Task<object?> ScalarAsync(SqliteDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Closes the pooled connections of <paramref name="database"/>, as the process exiting would.</summary>
    public static async Task ClosePoolAsync(SqliteDatabase database)
    {
        await database.DisposeAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        SqliteConnection.ClearPool(connection);
    }
}
