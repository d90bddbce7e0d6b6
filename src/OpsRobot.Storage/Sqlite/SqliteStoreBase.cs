using Microsoft.Data.Sqlite;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Runs one unit of work on a pooled connection and translates SQLite's errors into the store's.</summary>
public abstract class SqliteStoreBase(SqliteDatabase database)
{
    protected SqliteDatabase Database { get; } = database ?? throw new ArgumentNullException(nameof(database));

    protected async Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var connection = await Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work(connection).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw SqliteDatabase.Translate(ex);
        }
    }

    protected async Task<T> InTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return await WithConnectionAsync(async connection =>
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(connection, tx).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }, cancellationToken).ConfigureAwait(false);
    }

    protected static long ToUnixMs(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    protected static DateTimeOffset FromUnixMs(long value) => DateTimeOffset.FromUnixTimeMilliseconds(value);

    protected static DateTimeOffset? FromUnixMs(long? value) => value is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(value.Value);
}
