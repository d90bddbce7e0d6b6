using Dapper;
using Microsoft.Data.Sqlite;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Workflow runs in SQLite: <c>workflow_runs</c> holds each run's last whole state, <c>workflow_steps</c> the steps
/// since (migration 0011). A step is a row of its own and leaves the run's row untouched, so storing one does not
/// rewrite the whole state (SQLite rewrites a row whole when any of its columns changes). A run's version is its newest
/// step's, else its row's; both kinds of save are a compare-and-set on it.
/// </summary>
public sealed class SqliteWorkflowStore(SqliteDatabase database, TimeProvider time) : SqliteStoreBase(database), IWorkflowStore
{
    private const string StepColumns =
        "execution_id AS ExecutionId, version AS Version, step AS Step, dispatches AS Dispatches, updated_at AS UpdatedAt";

    /// <summary>The run's version now: its newest step's, else its row's (no row: no value).</summary>
    private const string CurrentVersion =
        "(SELECT COALESCE((SELECT MAX(version) FROM workflow_steps WHERE execution_id = @ExecutionId), version) FROM workflow_runs WHERE execution_id = @ExecutionId)";

    private const string Columns =
        "execution_id AS ExecutionId, action_ref AS ActionRef, workflow_file AS WorkflowFile, version AS Version, state AS State, " +
        "dispatches AS Dispatches, finished AS Finished, updated_at AS UpdatedAt";

    public Task<WorkflowRunRecord?> GetAsync(long executionId, CancellationToken cancellationToken) =>
        ReadAsync(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM workflow_runs WHERE execution_id = @executionId", new { executionId }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            var steps = await c.QueryAsync<StepRow>(new CommandDefinition(
                $"SELECT {StepColumns} FROM workflow_steps WHERE execution_id = @executionId ORDER BY version",
                new { executionId }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row.ToRecord(steps);
        }, cancellationToken);

    public Task<bool> SaveAsync(WorkflowRunRecord run, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var args = new
        {
            run.ExecutionId,
            run.ActionRef,
            run.WorkflowFile,
            Expected = expectedVersion,
            Version = expectedVersion + 1,
            run.State,
            run.Dispatches,
            Finished = run.Finished ? 1 : 0,
            UpdatedAt = ToUnixMs(time.GetUtcNow()),
        };
        return InTransactionAsync(async (c, tx) =>
        {
            var changed = expectedVersion == 0
                ? await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO workflow_runs (execution_id, action_ref, workflow_file, version, state, dispatches, finished, updated_at)
                    VALUES (@ExecutionId, @ActionRef, @WorkflowFile, @Version, @State, @Dispatches, @Finished, @UpdatedAt)
                    ON CONFLICT (execution_id) DO NOTHING
                    """, args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false)
                : await c.ExecuteAsync(new CommandDefinition(
                    $"""
                    UPDATE workflow_runs SET version = @Version, state = @State, dispatches = @Dispatches, finished = @Finished, updated_at = @UpdatedAt
                    WHERE execution_id = @ExecutionId AND {CurrentVersion} = @Expected
                    """, args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (changed != 1)
            {
                return false;
            }

            // The whole state replaces the steps before it.
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM workflow_steps WHERE execution_id = @ExecutionId", args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<bool> AppendStepAsync(long executionId, long expectedVersion, string stepText, string dispatches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stepText);
        ArgumentNullException.ThrowIfNull(dispatches);
        if (expectedVersion < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), "A step follows a stored run: store the run whole first.");
        }

        var args = new
        {
            ExecutionId = executionId,
            Expected = expectedVersion,
            Version = expectedVersion + 1,
            Step = stepText,
            Dispatches = dispatches,
            UpdatedAt = ToUnixMs(time.GetUtcNow()),
        };
        return InTransactionAsync(async (c, tx) =>
        {
            // Stored only on top of the version the writer read, and never after the run finished.
            var changed = await c.ExecuteAsync(new CommandDefinition(
                $"""
                INSERT INTO workflow_steps (execution_id, version, step, dispatches, updated_at)
                SELECT @ExecutionId, @Version, @Step, @Dispatches, @UpdatedAt
                WHERE {CurrentVersion} = @Expected
                  AND (SELECT finished FROM workflow_runs WHERE execution_id = @ExecutionId) = 0
                """, args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return changed == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<WorkflowRunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        ReadAsync(async (c, tx) =>
        {
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM workflow_runs WHERE finished = 0 ORDER BY execution_id", transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var steps = (await c.QueryAsync<StepRow>(new CommandDefinition(
                """
                SELECT s.execution_id AS ExecutionId, s.version AS Version, s.step AS Step, s.dispatches AS Dispatches, s.updated_at AS UpdatedAt
                FROM workflow_steps s JOIN workflow_runs r ON r.execution_id = s.execution_id
                WHERE r.finished = 0 ORDER BY s.execution_id, s.version
                """, transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .ToLookup(s => s.ExecutionId);
            return (IReadOnlyList<WorkflowRunRecord>)[.. rows.Select(r => r.ToRecord(steps[r.ExecutionId]))];
        }, cancellationToken);

    /// <summary>Reads a run and its steps as of one moment (a deferred transaction: no write lock is taken).</summary>
    private Task<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> read, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            await using var tx = c.BeginTransaction(deferred: true);
            return await read(c, tx).ConfigureAwait(false);
        }, cancellationToken);

    private sealed class Row
    {
        public long ExecutionId { get; set; }

        public string ActionRef { get; set; } = string.Empty;

        public string WorkflowFile { get; set; } = string.Empty;

        public long Version { get; set; }

        public string State { get; set; } = string.Empty;

        public string Dispatches { get; set; } = string.Empty;

        public long Finished { get; set; }

        public long UpdatedAt { get; set; }

        /// <summary>The run as of its newest step: version, actions in flight and time are the step's.</summary>
        public WorkflowRunRecord ToRecord(IEnumerable<StepRow> steps)
        {
            var list = steps.ToList();
            var newest = list.Count > 0 ? list[^1] : null;
            return new()
            {
                Steps = [.. list.Select(s => new WorkflowStoredStep(s.Version, s.Step))],
                ExecutionId = ExecutionId,
                ActionRef = ActionRef,
                WorkflowFile = WorkflowFile,
                Version = newest?.Version ?? Version,
                BaseVersion = Version,
                State = State,
                Dispatches = newest?.Dispatches ?? Dispatches,
                Finished = Finished != 0,
                UpdatedAt = FromUnixMs(newest?.UpdatedAt ?? UpdatedAt),
            };
        }
    }

    private sealed class StepRow
    {
        public long ExecutionId { get; set; }

        public long Version { get; set; }

        public string Step { get; set; } = string.Empty;

        public string Dispatches { get; set; } = string.Empty;

        public long UpdatedAt { get; set; }
    }
}
