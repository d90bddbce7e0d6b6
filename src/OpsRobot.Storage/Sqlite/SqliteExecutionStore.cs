using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Executions and their output in SQLite.</summary>
public sealed class SqliteExecutionStore(SqliteDatabase database) : SqliteStoreBase(database), IExecutionStore
{
    /// <summary>The most executions or output chunks one read returns.</summary>
    public const int MaxPage = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Columns =
        "id AS Id, action_ref AS ActionRef, runner_type AS RunnerType, parameters AS Parameters, status AS Status, requester AS Requester, " +
        "result AS Result, exit_code AS ExitCode, error AS Error, created_at AS CreatedAt, started_at AS StartedAt, ended_at AS EndedAt, " +
        "parent_id AS ParentId, retry_of AS RetryOf, attempt AS Attempt, owner AS Owner";

    public Task<ExecutionRecord> CreateAsync(ExecutionRecord execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        return WithConnectionAsync(async c =>
        {
            var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO executions (action_ref, runner_type, parameters, status, requester, requester_user, result, exit_code, error,
                                        created_at, started_at, ended_at, parent_id, retry_of, attempt, owner)
                VALUES (@ActionRef, @RunnerType, @Parameters, @Status, @Requester, @RequesterUser, @Result, @ExitCode, @Error,
                        @CreatedAt, @StartedAt, @EndedAt, @ParentId, @RetryOf, @Attempt, @Owner)
                RETURNING id
                """,
                new
                {
                    execution.ActionRef,
                    execution.RunnerType,
                    Parameters = execution.Parameters.ToJsonString(),
                    Status = execution.Status.ToWire(),
                    Requester = JsonSerializer.Serialize(execution.Requester, Json),
                    RequesterUser = execution.Requester.UserName,
                    Result = execution.Result?.ToJsonString(),
                    execution.ExitCode,
                    execution.Error,
                    CreatedAt = ToUnixMs(execution.CreatedAt),
                    StartedAt = execution.StartedAt?.ToUnixTimeMilliseconds(),
                    EndedAt = execution.EndedAt?.ToUnixTimeMilliseconds(),
                    execution.ParentId,
                    execution.RetryOf,
                    execution.Attempt,
                    execution.Owner,
                }, cancellationToken: cancellationToken)).ConfigureAwait(false);
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
        return WithConnectionAsync(async c =>
        {
            var changed = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE executions SET
                    status = @to,
                    started_at = COALESCE(@StartedAt, started_at),
                    ended_at = COALESCE(@EndedAt, ended_at),
                    result = COALESCE(@Result, result),
                    exit_code = COALESCE(@ExitCode, exit_code),
                    error = COALESCE(@Error, error)
                WHERE id = @id AND status IN @from
                """,
                new
                {
                    id,
                    to = status.ToWire(),
                    from = from.Select(s => s.ToWire()).ToArray(),
                    StartedAt = update.StartedAt?.ToUnixTimeMilliseconds(),
                    EndedAt = update.EndedAt?.ToUnixTimeMilliseconds(),
                    Result = update.Result?.ToJsonString(),
                    update.ExitCode,
                    update.Error,
                }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return changed == 1;
        }, cancellationToken);
    }

    public Task<bool> ClaimAsync(long id, string fromOwner, string toOwner, IReadOnlyCollection<ExecutionStatus> from, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        return WithConnectionAsync(async c =>
        {
            var changed = await c.ExecuteAsync(new CommandDefinition(
                "UPDATE executions SET owner = @toOwner WHERE id = @id AND owner = @fromOwner AND status IN @from",
                new { id, fromOwner, toOwner, from = from.Select(s => s.ToWire()).ToArray() },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            return changed == 1;
        }, cancellationToken);
    }

    public Task AppendOutputAsync(IReadOnlyList<OutputChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            return Task.CompletedTask;
        }

        return InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO execution_output (execution_id, seq, kind, text, at) VALUES (@ExecutionId, @Sequence, @Kind, @Text, @At)",
                chunks.Select(x => new
                {
                    x.ExecutionId,
                    x.Sequence,
                    Kind = x.Kind == OutputKind.Stderr ? "stderr" : "stdout",
                    x.Text,
                    At = ToUnixMs(x.At),
                }), tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return 0;
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
                $"SELECT {Columns} FROM executions WHERE status IN ('requested', 'scheduled', 'running', 'canceling', 'pausing', 'paused', 'resuming', 'pending') ORDER BY id",
                cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(Map)],
            cancellationToken);

    private static ExecutionRecord Map(Row r) => new()
    {
        Id = r.Id,
        ActionRef = r.ActionRef,
        RunnerType = r.RunnerType,
        Parameters = JsonNode.Parse(r.Parameters) as JsonObject ?? [],
        Status = ExecutionStatuses.TryParseWire(r.Status, out var s) ? s : throw new InvalidDataException($"Execution {r.Id} has an unknown status '{r.Status}'."),
        Requester = JsonSerializer.Deserialize<ExecutionRequester>(r.Requester, Json)!,
        Result = r.Result is null ? null : JsonNode.Parse(r.Result),
        ExitCode = r.ExitCode is null ? null : (int)r.ExitCode.Value,
        Error = r.Error,
        CreatedAt = FromUnixMs(r.CreatedAt),
        StartedAt = FromUnixMs(r.StartedAt),
        EndedAt = FromUnixMs(r.EndedAt),
        ParentId = r.ParentId,
        RetryOf = r.RetryOf,
        Attempt = (int)r.Attempt,
        Owner = r.Owner,
    };

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
