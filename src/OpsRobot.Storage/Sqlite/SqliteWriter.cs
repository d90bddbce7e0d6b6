using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Group commit for the hot writes (chat lines and answers, audit records, events, executions): callers queue a unit of
/// work, one writer runs every unit waiting into one transaction on its own connection with its statements prepared
/// once, commits, and only then tells each caller it is done. A caller alone pays one commit, as before; a hundred
/// callers at once pay one commit between them instead of a hundred. A unit that fails (a constraint) fails alone and
/// the others still commit (the batch is run again with a savepoint per unit). Order is the order of
/// <see cref="WriteAsync{T}"/> calls, and holds through failures: when a batch fails as a whole (a full disk, a lock
/// held too long by another process), the writes queued behind it fail too, so no write commits ahead of one queued
/// before it that failed (a chat answer is never stored without its line and its audit record).
/// </summary>
public sealed partial class SqliteWriter : IAsyncDisposable
{
    /// <summary>The most units in one transaction, so one commit never holds the write lock long.</summary>
    public const int MaxBatch = 512;

    private readonly SqliteDatabase _database;
    private readonly ILogger _logger;
    private readonly Channel<IUnit> _queue = Channel.CreateUnbounded<IUnit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Dictionary<string, WriteStatement> _statements = new(StringComparer.Ordinal);
    private readonly List<WriteStatement> _inUse = [];
    private Task? _loop;
    private SqliteConnection? _connection;
    private SqliteTransaction? _transaction;

    public SqliteWriter(SqliteDatabase database, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        _logger = logger;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in the next batch's transaction and completes once that transaction has
    /// committed. The work is synchronous (SQLite is) and must only use <see cref="SqliteWriteContext"/>. It may run
    /// more than once: when another unit of its batch fails, the batch is rolled back and run again with each unit in
    /// its own savepoint, so the work must not change anything but the database (build its result afresh each run).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriteContext, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var unit = new Unit<T>(work, cancellationToken);
        if (!_queue.Writer.TryWrite(unit))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(SqliteWriter), "The store is shutting down."));
        }

        EnsureRunning();
        return unit.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        Task loop;
        lock (_gate)
        {
            // Started here if a first write raced the dispose (queued, its loop not started yet): the loop runs what
            // is queued and ends, instead of starting later and opening a connection no one closes.
            loop = _loop ??= Task.Run(RunAsync);
        }

        await loop.ConfigureAwait(false);
        CloseConnection();
    }

    private void EnsureRunning()
    {
        lock (_gate)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<IUnit>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var unit))
            {
                if (unit.IsCanceled)
                {
                    Settle([unit], static u => u.Cancel());
                    continue;
                }

                batch.Add(unit);
            }

            if (batch.Count > 0)
            {
                await RunBatchAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task RunBatchAsync(List<IUnit> batch)
    {
        try
        {
            var connection = await ConnectionAsync().ConfigureAwait(false);

            // Most batches fail nowhere: run them straight, without a savepoint per unit. When a unit does fail, the
            // whole batch is rolled back and run again carefully, each unit in its own savepoint, so that unit fails
            // alone and the others still commit.
            if (!RunStraight(connection, batch))
            {
                RunCarefully(connection, batch);
            }

            Settle(batch, static unit => unit.Complete());
        }
#pragma warning disable CA1031 // Whatever stopped the batch is handed to every caller waiting on it; the writer itself goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var error = ex is SqliteException sqlite ? SqliteDatabase.Translate(sqlite) : ex;
            LogBatchFailed(_logger, ex, batch.Count);
            try
            {
                _transaction?.Rollback();
            }
#pragma warning disable CA1031 // The connection may be broken; it is closed and opened again for the next batch.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            DisposeTransaction();
            CloseConnection();
            Settle(batch, unit => unit.Fail(error));

            // Writes queued while this batch ran were queued before its failure was known, and may depend on it (an
            // answer on its line): they fail too. Writes queued from now on are run as usual.
            var behind = new List<IUnit>();
            while (_queue.Reader.TryRead(out var unit))
            {
                behind.Add(unit);
            }

            if (behind.Count > 0)
            {
                Settle(behind, unit => unit.Fail(error));
            }
        }
    }

    /// <summary>
    /// Tells the callers of a batch, in order, on one thread-pool thread: their continuations run there, one after the
    /// other, and never on the writer's own thread (which goes straight on to the next batch). One work item per batch
    /// instead of one per caller: a burst's hundreds of callers cost one hand-off.
    /// </summary>
    private static void Settle(List<IUnit> batch, Action<IUnit> settle) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            foreach (var unit in state.Units)
            {
                state.Settle(unit);
            }
        }, (Units: batch.ToArray(), Settle: settle), preferLocal: false);

    /// <summary>Runs the batch in one transaction with no savepoints; false (and rolled back) when a unit failed.</summary>
    private bool RunStraight(SqliteConnection connection, List<IUnit> batch)
    {
        _transaction = connection.BeginTransaction(deferred: false);
        var context = new SqliteWriteContext(this);
        foreach (var unit in batch)
        {
            if (!RunUnit(unit, context))
            {
                if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
                {
                    // SQLite rolled the whole transaction back itself (a full disk, an I/O error): the batch is lost,
                    // and every unit in it is told why.
                    throw unit.Error!;
                }

                _transaction.Rollback();
                DisposeTransaction();
                return false;
            }
        }

        _transaction.Commit();
        DisposeTransaction();
        return true;
    }

    /// <summary>Runs the batch with each unit in its own savepoint: a unit that fails is undone alone.</summary>
    private void RunCarefully(SqliteConnection connection, List<IUnit> batch)
    {
        _transaction = connection.BeginTransaction(deferred: false);
        var context = new SqliteWriteContext(this);
        foreach (var unit in batch)
        {
            Execute("SAVEPOINT unit");
            if (RunUnit(unit, context))
            {
                Execute("RELEASE unit");
            }
            else if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
            {
                throw unit.Error!;
            }
            else
            {
                Execute("ROLLBACK TO unit");
                Execute("RELEASE unit");
                context.Forget();
            }
        }

        _transaction.Commit();
        DisposeTransaction();
    }

    private async Task<SqliteConnection> ConnectionAsync()
    {
        if (_connection is not null && !File.Exists(_database.FilePath))
        {
            CloseConnection();
        }

        // OpenAsync refuses a database file that vanished, as every other store call does.
        return _connection ??= await _database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs one unit, then resets the statements it used, whatever happened, so none is left mid-run.</summary>
    private bool RunUnit(IUnit unit, SqliteWriteContext context)
    {
        try
        {
            return unit.Run(context);
        }
        finally
        {
            foreach (var statement in _inUse)
            {
                statement.Reset();
            }

            _inUse.Clear();
        }
    }

    internal WriteStatement Statement(string sql)
    {
        var statement = Prepared(sql);
        if (_inUse.Contains(statement))
        {
            // Asked for again within the unit (a loop): ready it for new bindings.
            statement.Reset();
        }
        else
        {
            _inUse.Add(statement);
        }

        return statement;
    }

    /// <summary>Runs one of the writer's own statements (the savepoints), prepared once like the units' statements.</summary>
    private void Execute(string sql)
    {
        var statement = Prepared(sql);
        statement.Execute();
        statement.Reset();
    }

    /// <summary>The statement <paramref name="sql"/> on the writer's connection, prepared on first use and kept.</summary>
    private WriteStatement Prepared(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = WriteStatement.Prepare(_connection!.Handle!, sql);
            _statements[sql] = statement;
        }

        return statement;
    }

    private void DisposeTransaction()
    {
        try
        {
            _transaction?.Dispose();
        }
        catch (SqliteException)
        {
            // SQLite already rolled it back (a full disk): there is nothing left to end.
        }
        finally
        {
            _transaction = null;
        }
    }

    private void CloseConnection()
    {
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }

        _statements.Clear();
        _inUse.Clear();
        try
        {
            _connection?.Dispose();
        }
        catch (SqliteException)
        {
            // Closing rolls back a transaction SQLite already ended itself (a full disk); the handle is closed anyway.
        }
        finally
        {
            _connection = null;
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "A batch of {Count} store writes failed; each caller is told")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    private interface IUnit
    {
        bool IsCanceled { get; }

        /// <summary>What the work threw, once <see cref="Run"/> returned false.</summary>
        Exception? Error { get; }

        /// <summary>Runs the work; false when it threw (its savepoint is rolled back, the batch goes on).</summary>
        bool Run(SqliteWriteContext context);

        void Complete();

        void Fail(Exception error);

        void Cancel();
    }

    private sealed class Unit<T>(Func<SqliteWriteContext, T> work, CancellationToken cancellationToken) : IUnit
    {
        private T? _result;
        private Exception? _error;

        /// <summary>Completed only from <see cref="Settle"/>'s work item, so continuations may run inline there.</summary>
        public TaskCompletionSource<T> Done { get; } = new();

        public bool IsCanceled => cancellationToken.IsCancellationRequested;

        public Exception? Error => _error;

        public bool Run(SqliteWriteContext context)
        {
            try
            {
                _result = work(context);
                _error = null;
                return true;
            }
#pragma warning disable CA1031 // The unit's own failure is its caller's answer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _error = ex is SqliteException sqlite ? SqliteDatabase.Translate(sqlite) : ex;
                return false;
            }
        }

        public void Complete()
        {
            if (_error is not null)
            {
                Done.TrySetException(_error);
            }
            else
            {
                Done.TrySetResult(_result!);
            }
        }

        public void Fail(Exception error) => Done.TrySetException(error);

        public void Cancel() => Done.TrySetCanceled(cancellationToken);
    }
}

/// <summary>What a unit of work given to <see cref="SqliteWriter"/> may do: run statements, prepared once and reused.</summary>
public sealed class SqliteWriteContext
{
    private readonly SqliteWriter _writer;
    private Dictionary<string, object>? _facts;

    internal SqliteWriteContext(SqliteWriter writer) => _writer = writer;

    /// <summary>
    /// What an earlier unit of this same transaction learned and left for the next ones (the audit chain's last link),
    /// or null. Facts live for one transaction and are forgotten when any unit is rolled back.
    /// </summary>
    public T? Fact<T>(string key)
        where T : class => _facts is not null && _facts.TryGetValue(key, out var value) ? (T)value : null;

    /// <summary>Leaves <paramref name="value"/> for the later units of this transaction (see <see cref="Fact{T}"/>).</summary>
    public void Remember(string key, object value)
    {
        _facts ??= new Dictionary<string, object>(StringComparer.Ordinal);
        _facts[key] = value;
    }

    internal void Forget() => _facts?.Clear();

    /// <summary>
    /// The statement <paramref name="sql"/> (one statement), prepared on first use and kept; bind its parameters by
    /// position. It belongs to the writer: use it only within the unit of work.
    /// </summary>
    public WriteStatement Statement(string sql) => _writer.Statement(sql);
}
