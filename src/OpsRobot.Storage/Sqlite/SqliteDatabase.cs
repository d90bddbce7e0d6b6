using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Storage;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Opens connections to the SQLite file with the settings every connection needs, and brings its schema up to
/// date. Connections are pooled by Microsoft.Data.Sqlite, so opening one per operation is cheap.
/// </summary>
public sealed partial class SqliteDatabase : IAsyncDisposable
{
    private readonly string _createConnectionString;
    private readonly string _connectionString;
    private volatile bool _created;
    private readonly string _pragmas;
    private readonly ILogger<SqliteDatabase> _logger;
    private static readonly object Configured = new();
    private readonly TimeSpan _busyTimeout;
    private int _warnedBusyWait;
    private readonly Lock _writerGate = new();
    private SqliteWriter? _writer;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = [];

    // Before any connection opens: the connections opened after it use SQLite's file layer with a millisecond sleep.
    private static readonly bool SleepsInMilliseconds = InitSqlite();
    private static int s_warnedSleep;

    public SqliteDatabase(IOptions<SqliteOptions> options, ILogger<SqliteDatabase> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        FilePath = System.IO.Path.GetFullPath(o.Path);
        _createConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();

        // Once the schema exists, never create the file again: a database that vanished must be an error, not a
        // silently empty new one.
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,

            // Microsoft.Data.Sqlite retries a busy statement by itself until the command timeout (30 s by default)
            // on top of SQLite's busy_timeout: without this, a locked database held every request for 30 s, not
            // for the BusyTimeout the operator set. Whole seconds, at least one (0 would mean "wait forever").
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(o.BusyTimeout.TotalSeconds)),
        }.ToString();
        // The busy timeout is SqliteBusyWait's, not PRAGMA busy_timeout's (which sleeps whole seconds on this build).
        _busyTimeout = o.BusyTimeout;
        _pragmas = string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA foreign_keys = ON; PRAGMA synchronous = {(o.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")};");
        _logger = logger;
        if (!SleepsInMilliseconds && Interlocked.Exchange(ref s_warnedSleep, 1) == 0)
        {
            LogSleepFallback(logger);
        }
    }

    public string FilePath { get; }

    /// <summary>The group-committing writer for the hot writes (chat history, audit).</summary>
    public SqliteWriter Writer
    {
        get
        {
            lock (_writerGate)
            {
                return _writer ??= new SqliteWriter(this, _logger);
            }
        }
    }

    /// <summary>Finishes the writes still queued, then closes the writer's connection.</summary>
    public async ValueTask DisposeAsync()
    {
        SqliteWriter? writer;
        lock (_writerGate)
        {
            writer = _writer;
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Opens a connection with the busy timeout, foreign keys and durability settings applied.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_created && !File.Exists(FilePath))
        {
            // Pooled connections keep a deleted file open and would go on "succeeding" into nothing: this database's
            // pool is cleared (not every pool in the process).
            ClearOwnPool();
            throw new StoreUnavailableException($"The database file {FilePath} is gone. Restore it from a backup, or restart OpsRobot to create an empty one.");
        }

        return await OpenCoreAsync(_created ? _connectionString : _createConnectionString, cancellationToken).ConfigureAwait(false);
    }

    private void ClearOwnPool()
    {
        try
        {
            using var pooled = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(pooled);
        }
        catch (InvalidOperationException)
        {
            // Microsoft.Data.Sqlite 6.0.0 trips over a pooled connection the GC reclaimed while it clears a pool
            // ("Collection was modified", dotnet/efcore#27214). The caller is told the file is gone either way, and
            // the pool's handles on the deleted file are closed when they are next returned.
        }
    }

    private async Task<SqliteConnection> OpenCoreAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // A pooled connection hands back the same SQLite handle, whose settings last as long as it does: set them
            // once per handle, not on every open (three statements parsed per store call, measured at chat load).
            if (connection.Handle is { } handle && !_configured.TryGetValue(handle, out _))
            {
                if (!SqliteBusyWait.Install(connection, _busyTimeout) && Interlocked.Exchange(ref _warnedBusyWait, 1) == 0)
                {
                    LogBusyWaitFallback(_logger);
                }

                await using var command = connection.CreateCommand();
                command.CommandText = _pragmas;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _configured.AddOrUpdate(handle, Configured);
            }

            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Translate(ex);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Applies the migrations this build knows that the file has not seen yet, each in its own transaction.</summary>
    public async Task<int> MigrateAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var migrations = LoadMigrations();
        await using var connection = await OpenCoreAsync(_createConnectionString, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null,
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);",
            cancellationToken).ConfigureAwait(false);

        var applied = 0;
        foreach (var (version, name, sql) in migrations)
        {
            // BEGIN IMMEDIATE takes the write lock first, so two processes starting together apply each migration once.
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            var already = await ScalarAsync(connection, tx, $"SELECT COUNT(*) FROM schema_migrations WHERE version = {version};", cancellationToken).ConfigureAwait(false);
            if (already > 0)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ExecuteAsync(connection, tx, sql, cancellationToken).ConfigureAwait(false);
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t);";
                insert.Parameters.AddWithValue("$v", version);
                insert.Parameters.AddWithValue("$n", name);
                insert.Parameters.AddWithValue("$t", time.GetUtcNow().ToUnixTimeMilliseconds());
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            LogMigrationApplied(_logger, version, name);
            applied++;
        }

        var newest = await ScalarAsync(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;", cancellationToken).ConfigureAwait(false);
        var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
        if (newest > known)
        {
            throw new StoreUnavailableException(
                $"The database {FilePath} has schema version {newest}, newer than this OpsRobot knows ({known}). Run a newer OpsRobot, or restore a backup made before the upgrade.");
        }

        _created = true;
        return applied;
    }

    /// <summary>Maps SQLite's error codes onto the store's exceptions, so callers can tell "try later" from "conflict".</summary>
    public static Exception Translate(SqliteException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.SqliteErrorCode switch
        {
            19 => new StoreConflictException(ex.Message, ex), // SQLITE_CONSTRAINT
            5 or 6 => new StoreUnavailableException("The database is locked by another process; try again in a moment.", ex),
            13 => new StoreUnavailableException("The disk holding the database is full; free space, then try again.", ex),
            8 => new StoreUnavailableException("The database is read-only; check the permissions of the data folder.", ex),
            10 or 14 => new StoreUnavailableException("The database file cannot be read or written; check the data folder and its disk.", ex),
            _ => ex,
        };
    }

    private static List<(int Version, string Name, string Sql)> LoadMigrations()
    {
        var assembly = typeof(SqliteDatabase).Assembly;
        const string prefix = "OpsRobot.Storage.Migrations.Sqlite.";
        var list = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = resource[prefix.Length..^".sql".Length];
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, name, reader.ReadToEnd()));
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> ScalarAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "The SQLite library in use has no sqlite3_busy_handler to call; SQLite's own busy timeout is used, which may wait in whole seconds")]
    private static partial void LogBusyWaitFallback(ILogger logger);

    private static bool InitSqlite()
    {
        SQLitePCL.Batteries_V2.Init();
        return SqliteSleep.EnsureRegistered();
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "SQLite's file layer could not be given a millisecond sleep (not the bundled SQLite library); SQLite's own short waits may take whole seconds")]
    private static partial void LogSleepFallback(ILogger logger);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Applied database migration {Version} ({Name})")]
    private static partial void LogMigrationApplied(ILogger logger, int version, string name);
}
