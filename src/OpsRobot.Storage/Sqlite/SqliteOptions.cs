namespace OpsRobot.Storage.Sqlite;

/// <summary>How the embedded SQLite store is opened.</summary>
public sealed class SqliteOptions
{
    /// <summary>The database file. Relative paths are resolved by the host against the data folder.</summary>
    public string Path { get; set; } = "opsrobot.db";

    /// <summary>
    /// SQLite's <c>synchronous</c> setting. <c>Normal</c> (the default, with WAL) keeps every committed write across a
    /// crash or <c>kill -9</c> of OpsRobot; only a power cut or kernel crash can lose the last few commits.
    /// <c>Full</c> survives those too, at the cost of one disk flush per commit.
    /// </summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;

    /// <summary>How long a write waits for another process (the shell chat, a second server) to release the database.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public enum SqliteSynchronous
{
    Normal,
    Full,
}
