using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Executions and their output in SQLite. Every write (creation, transitions, claims, output) goes through the
/// database's group-committing <see cref="SqliteWriter"/>: a thousand executions starting and ending at once share
/// commits instead of each taking SQLite's write lock on its own connection, where the busy waits of the losers (SQLite
/// sleeps between tries, and a waiter that sleeps loses to one that does not) made starting work crawl under load.
/// Each write still completes only once committed, so an accepted execution is on disk before anyone hears of it.
/// </summary>
public sealed class SqliteExecutionStore(SqliteDatabase database) : SqliteStoreBase(database), IExecutionStore
{
    /// <summary>The most executions or output chunks one read returns.</summary>
    public const int MaxPage = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The transition statements by the set of statuses they move from (a bit per status).</summary>
    private static readonly ConcurrentDictionary<long, string> TransitionStatements = new();

    /// <summary>The columns the writer reads a record back with, in the order <see cref="ReadRow"/> reads them.</summary>
    private const string RowColumns =
        "id, action_ref, runner_type, parameters, status, requester, result, exit_code, error, created_at, started_at, ended_at, parent_id, retry_of, attempt, owner, requester_user, secrets_masked";

    private const string Columns =
        "id AS Id, action_ref AS ActionRef, runner_type AS RunnerType, parameters AS Parameters, status AS Status, requester AS Requester, " +
        "result AS Result, exit_code AS ExitCode, error AS Error, created_at AS CreatedAt, started_at AS StartedAt, ended_at AS EndedAt, " +
        "parent_id AS ParentId, retry_of AS RetryOf, attempt AS Attempt, owner AS Owner, requester_user AS RequesterUser, secrets_masked AS SecretsMasked";

    public Task<ExecutionRecord> CreateAsync(ExecutionRecord execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);

        // Serialized here, on the caller's thread: the writer runs its units one after another, so a unit holds only SQL.
        var parameters = execution.Parameters.ToJsonString();
        var requester = JsonSerializer.Serialize(execution.Requester, Json);
        var result = execution.Result?.ToJsonString();
        return Database.Writer.WriteAsync(context =>
        {
            var id = context.Statement(
                """
                INSERT INTO executions (action_ref, runner_type, parameters, status, requester, requester_user, result, exit_code, error,
                                        created_at, started_at, ended_at, parent_id, retry_of, attempt, owner, secrets_masked)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                """)
                .Bind(1, execution.ActionRef)
                .Bind(2, execution.RunnerType)
                .Bind(3, parameters)
                .Bind(4, execution.Status.ToWire())
                .Bind(5, requester)
                .Bind(6, execution.Requester.UserName)
                .Bind(7, result)
                .Bind(8, execution.ExitCode)
                .Bind(9, execution.Error)
                .Bind(10, ToUnixMs(execution.CreatedAt))
                .Bind(11, execution.StartedAt?.ToUnixTimeMilliseconds())
                .Bind(12, execution.EndedAt?.ToUnixTimeMilliseconds())
                .Bind(13, execution.ParentId)
                .Bind(14, execution.RetryOf)
                .Bind(15, execution.Attempt)
                .Bind(16, execution.Owner)
                .Bind(17, execution.SecretsMasked ? 1 : 0)
                .ExecuteInsert() ?? throw new InvalidOperationException("The execution insert stored no row.");
            return execution with { Id = id };
        }, cancellationToken);
    }

    public Task<ExecutionRecord?> GetAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM executions WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<ExecutionRecord>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return WithConnectionAsync<IReadOnlyList<ExecutionRecord>>(async c =>
        {
            var found = new List<ExecutionRecord>();
            // In chunks, well under SQLite's limit on parameters in one statement.
            foreach (var chunk in ids.Distinct().Chunk(500))
            {
                var rows = await c.QueryAsync<Row>(new CommandDefinition(
                    $"SELECT {Columns} FROM executions WHERE id IN @chunk", new { chunk }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                found.AddRange(rows.Select(Map));
            }

            return found;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<ExecutionRecord>> ListAsync(ExecutionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT {Columns} FROM executions WHERE 1 = 1");
        var args = new DynamicParameters();
        if (query.ActionRef is not null)
        {
            sql.Append(" AND action_ref = @actionRef");
            args.Add("actionRef", query.ActionRef);
        }

        if (query.Status is { } status)
        {
            sql.Append(" AND status = @status");
            args.Add("status", status.ToWire());
        }

        if (query.UserName is not null)
        {
            sql.Append(" AND requester_user = @user");
            args.Add("user", query.UserName);
        }

        if (query.ParentId is { } parent)
        {
            sql.Append(" AND parent_id = @parent");
            args.Add("parent", parent);
        }

        if (query.BeforeId is { } before)
        {
            sql.Append(" AND id < @before");
            args.Add("before", before);
        }

        sql.Append(" ORDER BY id DESC LIMIT @limit");
        args.Add("limit", Math.Clamp(query.Limit, 1, MaxPage));
        return WithConnectionAsync<IReadOnlyList<ExecutionRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(Map)],
            cancellationToken);
    }

    public Task<bool> TransitionAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(update);
        if (from.Count == 0)
        {
            return Task.FromResult(false);
        }

        var transition = new Transition(id, status, update, TransitionSql(from));
        return Database.Writer.WriteAsync(context => transition.Bind(context).ExecuteNonQuery() == 1, cancellationToken);
    }

    public async Task<ExecutionRecord?> TransitionAndReadAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(update);
        if (from.Count == 0)
        {
            return null;
        }

        var transition = new Transition(id, status, update, TransitionSql(from));
        var row = await Database.Writer.WriteAsync(context =>
        {
            if (transition.Bind(context).ExecuteNonQuery() != 1)
            {
                return null;
            }

            // Read back in the same transaction, so it is the record as this transition left it. (A RETURNING clause
            // would say the same, at several times the cost: SQLite runs it through a temporary table.)
            var read = context.Statement(ReadBackSql).Bind(1, id);
            return read.Step() ? ReadRow(read) : null;
        }, cancellationToken).ConfigureAwait(false);

        // Parsed here, after the commit: a result of a megabyte is not parsed while the writer holds the write lock.
        return row is null ? null : Map(row);
    }

    public Task<bool> ClaimAsync(long id, string fromOwner, string toOwner, IReadOnlyCollection<ExecutionStatus> from, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(fromOwner);
        ArgumentNullException.ThrowIfNull(toOwner);
        if (from.Count == 0)
        {
            return Task.FromResult(false);
        }

        var sql = $"UPDATE executions SET owner = ?3 WHERE id = ?1 AND owner = ?2 AND status IN ({StatusList(from)})";
        return Database.Writer.WriteAsync(
            context => context.Statement(sql).Bind(1, id).Bind(2, fromOwner).Bind(3, toOwner).ExecuteNonQuery() == 1,
            cancellationToken);
    }

    public Task AppendOutputAsync(IReadOnlyList<OutputChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            return Task.CompletedTask;
        }

        // One unit: the chunks of one flush are stored all together or not at all, as before in their own transaction.
        return Database.Writer.WriteAsync(context =>
        {
            foreach (var chunk in chunks)
            {
                context.Statement("INSERT INTO execution_output (execution_id, seq, kind, text, at) VALUES (?1, ?2, ?3, ?4, ?5)")
                    .Bind(1, chunk.ExecutionId)
                    .Bind(2, chunk.Sequence)
                    .Bind(3, chunk.Kind == OutputKind.Stderr ? "stderr" : "stdout")
                    .Bind(4, chunk.Text)
                    .Bind(5, ToUnixMs(chunk.At))
                    .Execute();
            }

            return chunks.Count;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<OutputChunk>> ReadOutputAsync(long executionId, long afterSequence, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<OutputChunk>>(async c =>
        {
            var rows = await c.QueryAsync<OutputRow>(new CommandDefinition(
                "SELECT execution_id AS ExecutionId, seq AS Sequence, kind AS Kind, text AS Text, at AS At FROM execution_output WHERE execution_id = @executionId AND seq > @afterSequence ORDER BY seq LIMIT @limit",
                new { executionId, afterSequence, limit = Math.Clamp(limit, 1, MaxPage) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return [.. rows.Select(r => new OutputChunk(r.ExecutionId, r.Sequence, r.Kind == "stderr" ? OutputKind.Stderr : OutputKind.Stdout, r.Text, FromUnixMs(r.At)))];
        }, cancellationToken);

    public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<ExecutionRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(
                UnfinishedSql,
                cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(Map)],
            cancellationToken);

    /// <summary>
    /// The transition statement for one set of statuses it may move from. The statuses are the enum's own names, not
    /// input, so they are written into the text: each set is one statement the writer prepares once and reuses
    /// (a handful of sets exist), where a parameter list of varying length would be a new statement every time.
    /// </summary>
    private static string TransitionSql(IReadOnlyCollection<ExecutionStatus> from)
    {
        return TransitionStatements.GetOrAdd(Mask(from), static k =>
        {
            var statuses = Enum.GetValues<ExecutionStatus>().Where(s => (k & (1L << (int)s)) != 0).ToArray();
            return $"""
                UPDATE executions SET
                    status = ?2,
                    started_at = COALESCE(?3, started_at),
                    ended_at = COALESCE(?4, ended_at),
                    result = COALESCE(?5, result),
                    exit_code = COALESCE(?6, exit_code),
                    error = COALESCE(?7, error)
                WHERE id = ?1 AND status IN ({StatusList(statuses)})
                """;
        });
    }

    private static long Mask(IReadOnlyCollection<ExecutionStatus> statuses)
    {
        long mask = 0;
        foreach (var status in statuses)
        {
            if (!Enum.IsDefined(status))
            {
                throw new ArgumentOutOfRangeException(nameof(statuses), status, "Not an execution status.");
            }

            mask |= 1L << (int)status;
        }

        return mask;
    }

    private static string StatusList(IReadOnlyCollection<ExecutionStatus> statuses)
    {
        Mask(statuses);
        return string.Join(", ", statuses.Distinct().Select(s => "'" + s.ToWire() + "'"));
    }

    private static readonly string UnfinishedSql = $"SELECT {Columns} FROM executions WHERE status IN ({StatusList(ExecutionStatuses.Unfinished)}) ORDER BY id";

    private const string ReadBackSql = "SELECT " + RowColumns + " FROM executions WHERE id = ?1";

    /// <summary>A row read in the order of <see cref="RowColumns"/>.</summary>
    private static Row ReadRow(WriteStatement row) => new()
    {
        Id = row.ColumnInt64(0),
        ActionRef = row.ColumnText(1)!,
        RunnerType = row.ColumnText(2)!,
        Parameters = row.ColumnText(3)!,
        Status = row.ColumnText(4)!,
        Requester = row.ColumnText(5)!,
        Result = row.ColumnText(6),
        ExitCode = row.IsNull(7) ? null : row.ColumnInt64(7),
        Error = row.ColumnText(8),
        CreatedAt = row.ColumnInt64(9),
        StartedAt = row.IsNull(10) ? null : row.ColumnInt64(10),
        EndedAt = row.IsNull(11) ? null : row.ColumnInt64(11),
        ParentId = row.IsNull(12) ? null : row.ColumnInt64(12),
        RetryOf = row.IsNull(13) ? null : row.ColumnInt64(13),
        Attempt = row.ColumnInt64(14),
        Owner = row.ColumnText(15)!,
        RequesterUser = row.ColumnText(16),
        SecretsMasked = row.ColumnInt64(17),
    };

    /// <summary>
    /// A row as a record. A JSON column that does not parse (a database edited by hand, or damaged) does not make the
    /// execution unreadable: the record says so in <see cref="ExecutionRecord.Damage"/>, with the column left empty
    /// (the requester reduced to the user name kept in its own column), and recovery never starts it again.
    /// </summary>
    private static ExecutionRecord Map(Row r)
    {
        List<string>? damage = null;
        void Note(string column, string? problem)
        {
            if (problem is not null)
            {
                (damage ??= []).Add($"{column}: {problem}");
            }
        }

        var parameters = StoredJson.Object(r.Parameters, out var problem);
        Note("parameters", problem);

        ExecutionRequester? requester = null;
        try
        {
            requester = JsonSerializer.Deserialize<ExecutionRequester>(r.Requester, Json)
                ?? throw new JsonException("null instead of a requester.");
        }
        catch (JsonException ex)
        {
            Note("requester", ex.Message);
        }

        JsonNode? result = null;
        if (r.Result is not null)
        {
            result = StoredJson.Node(r.Result, out problem);
            Note("result", problem);
        }

        return new ExecutionRecord
        {
            Id = r.Id,
            ActionRef = r.ActionRef,
            RunnerType = r.RunnerType,
            Parameters = parameters ?? [],
            Status = ExecutionStatuses.TryParseWire(r.Status, out var s) ? s : throw new InvalidDataException($"Execution {r.Id} has an unknown status '{r.Status}'."),
            Requester = requester ?? new ExecutionRequester { Door = ExecutionDoor.Unknown, UserName = r.RequesterUser ?? string.Empty },
            Result = result,
            ExitCode = r.ExitCode is null ? null : (int)r.ExitCode.Value,
            Error = r.Error,
            CreatedAt = FromUnixMs(r.CreatedAt),
            StartedAt = FromUnixMs(r.StartedAt),
            EndedAt = FromUnixMs(r.EndedAt),
            ParentId = r.ParentId,
            RetryOf = r.RetryOf,
            Attempt = (int)r.Attempt,
            Owner = r.Owner,
            SecretsMasked = r.SecretsMasked != 0,
            Damage = damage is null ? null : $"the stored {string.Join("; ", damage)}",
        };
    }

    /// <summary>
    /// One transition's values, converted for SQLite on the caller's thread. The statement is conditional: its WHERE
    /// decides, inside the writer's transaction, so of two transitions racing from the same status exactly one moves
    /// the record, and a caller hears of it only once it is committed.
    /// </summary>
    private sealed class Transition(long id, ExecutionStatus status, ExecutionUpdate update, string sql)
    {
        private readonly string _to = status.ToWire();
        private readonly long? _startedAt = update.StartedAt?.ToUnixTimeMilliseconds();
        private readonly long? _endedAt = update.EndedAt?.ToUnixTimeMilliseconds();
        private readonly string? _result = update.Result?.ToJsonString();
        private readonly int? _exitCode = update.ExitCode;
        private readonly string? _error = update.Error;

        public WriteStatement Bind(SqliteWriteContext context) => context.Statement(sql)
            .Bind(1, id).Bind(2, _to).Bind(3, _startedAt).Bind(4, _endedAt).Bind(5, _result).Bind(6, _exitCode).Bind(7, _error);
    }

    private sealed class Row
    {
        public long Id { get; set; }

        public string ActionRef { get; set; } = "";

        public string RunnerType { get; set; } = "";

        public string Parameters { get; set; } = "{}";

        public string Status { get; set; } = "";

        public string Requester { get; set; } = "{}";

        public string? Result { get; set; }

        public long? ExitCode { get; set; }

        public string? Error { get; set; }

        public long CreatedAt { get; set; }

        public long? StartedAt { get; set; }

        public long? EndedAt { get; set; }

        public long? ParentId { get; set; }

        public long? RetryOf { get; set; }

        public long Attempt { get; set; }

        public string Owner { get; set; } = "";

        public string? RequesterUser { get; set; }

        public long SecretsMasked { get; set; }
    }

    private sealed class OutputRow
    {
        public long ExecutionId { get; set; }

        public long Sequence { get; set; }

        public string Kind { get; set; } = "";

        public string Text { get; set; } = "";

        public long At { get; set; }
    }
}
