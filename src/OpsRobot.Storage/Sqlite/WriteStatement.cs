using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// A statement of the group-committing writer (<see cref="SqliteWriteContext.Statement"/>), prepared once per
/// connection and bound by position straight into SQLite: the hot inserts (chat lines, audit records, events) pay
/// neither a parameter lookup by name nor a managed copy of their text. Bind every parameter, then
/// <see cref="Execute"/> or <see cref="Step"/>; asking the context for the statement again (in a loop) readies it for new
/// bindings, and the writer resets it after the unit of work.
/// </summary>
public sealed class WriteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    private WriteStatement(sqlite3 db, sqlite3_stmt statement)
    {
        _db = db;
        _statement = statement;
    }

    internal static WriteStatement Prepare(sqlite3 db, string sql)
    {
        var rc = raw.sqlite3_prepare_v3(db, sql, raw.SQLITE_PREPARE_PERSISTENT, out var statement, out var tail);
        SqliteException.ThrowExceptionForRC(rc, db);
        if (statement is null || statement.IsInvalid)
        {
            throw new ArgumentException($"No statement in: {sql}", nameof(sql));
        }

        if (!string.IsNullOrWhiteSpace(tail))
        {
            statement.Dispose();
            throw new ArgumentException($"One statement only, but this follows it: {tail}", nameof(sql));
        }

        return new WriteStatement(db, statement);
    }

    /// <summary>Binds parameter <paramref name="index"/> (1-based, in the order the statement names them).</summary>
    public WriteStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_statement, index, value));
        return this;
    }

    public WriteStatement Bind(int index, long? value) => value is { } v ? Bind(index, v) : BindNull(index);

    public WriteStatement Bind(int index, string? value)
    {
        if (value is null)
        {
            return BindNull(index);
        }

        // An empty span has no address, which SQLite would take for NULL: the empty string goes the plain way.
        Check(value.Length == 0 ? raw.sqlite3_bind_text(_statement, index, string.Empty) : raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));
        return this;
    }

    public WriteStatement BindNull(int index)
    {
        Check(raw.sqlite3_bind_null(_statement, index));
        return this;
    }

    /// <summary>Runs a statement that returns no row.</summary>
    public void Execute()
    {
        if (Step())
        {
            throw new InvalidOperationException("The statement returned a row where none was expected.");
        }
    }

    /// <summary>Runs a statement that returns no row; returns how many rows it changed.</summary>
    public int ExecuteNonQuery()
    {
        Execute();
        return raw.sqlite3_changes(_db);
    }

    /// <summary>
    /// Runs a plain INSERT, or one with <c>ON CONFLICT DO NOTHING</c> (no RETURNING clause), and gives the new row's
    /// id, or null when it inserted nothing. The id is the connection's last inserted rowid, which only this statement
    /// can have moved: the writer runs one statement at a time on its own connection, and no table here has an insert
    /// trigger. Not for an upsert (<c>DO UPDATE</c>): an update leaves the last rowid as it was, so keep
    /// <c>RETURNING id</c> there. Cheaper than <c>RETURNING id</c>, which SQLite runs through a temporary table of the
    /// rows returned (bench/OpsRobot.StorageBench measured it as a third of a chat line's storage).
    /// </summary>
    public long? ExecuteInsert() => ExecuteNonQuery() == 0 ? null : raw.sqlite3_last_insert_rowid(_db);

    /// <summary>Runs the statement to its next row: true with a row to read, false when it is done.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc == raw.SQLITE_DONE)
        {
            return false;
        }

        // The statement's own reset reports the same error with its extended code.
        raw.sqlite3_reset(_statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
        return false;
    }

    public long ColumnInt64(int column) => raw.sqlite3_column_int64(_statement, column);

    public string? ColumnText(int column) =>
        IsNull(column) ? null : raw.sqlite3_column_text(_statement, column).utf8_to_string();

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    /// <summary>Ends the current run (rows unread are dropped) so the statement can be bound and run again.</summary>
    internal void Reset()
    {
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
