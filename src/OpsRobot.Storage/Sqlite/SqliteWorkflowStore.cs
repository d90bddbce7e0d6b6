using Dapper;
using Microsoft.Data.Sqlite;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Workflow runs in SQLite (table <c>workflow_runs</c>).</summary>
public sealed class SqliteWorkflowStore(SqliteDatabase database, TimeProvider time) : SqliteStoreBase(database), IWorkflowStore
{
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
                "SELECT execution_id AS ExecutionId, version AS Version, step AS Step FROM workflow_steps WHERE execution_id = @executionId ORDER BY version",
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
                    """
                    UPDATE workflow_runs SET version = @Version, state = @State, dispatches = @Dispatches, finished = @Finished, updated_at = @UpdatedAt
                    WHERE execution_id = @ExecutionId AND version = @Expected
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

    public Task<bool> AppendStepAsync(long executionId, long expectedVersion, string stepText, string dispatches, bool finished, CancellationToken cancellationToken)
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
            Finished = finished ? 1 : 0,
            UpdatedAt = ToUnixMs(time.GetUtcNow()),
        };
        return InTransactionAsync(async (c, tx) =>
        {
            var changed = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE workflow_runs SET version = @Version, dispatches = @Dispatches, finished = @Finished, updated_at = @UpdatedAt
                WHERE execution_id = @ExecutionId AND version = @Expected
                """, args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (changed != 1)
            {
                return false;
            }

            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO workflow_steps (execution_id, version, step) VALUES (@ExecutionId, @Version, @Step)", args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<WorkflowRunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        ReadAsync(async (c, tx) =>
        {
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM workflow_runs WHERE finished = 0 ORDER BY execution_id", transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var steps = (await c.QueryAsync<StepRow>(new CommandDefinition(
                """
                SELECT s.execution_id AS ExecutionId, s.version AS Version, s.step AS Step
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

        public WorkflowRunRecord ToRecord(IEnumerable<StepRow> steps) => new()
        {
            Steps = [.. steps.Select(s => new WorkflowStoredStep(s.Version, s.Step))],
            ExecutionId = ExecutionId,
            ActionRef = ActionRef,
            WorkflowFile = WorkflowFile,
            Version = Version,
            State = State,
            Dispatches = Dispatches,
            Finished = Finished != 0,
            UpdatedAt = FromUnixMs(UpdatedAt),
        };
    }

    private sealed class StepRow
    {
        public long ExecutionId { get; set; }

        public long Version { get; set; }

        public string Step { get; set; } = string.Empty;
    }
}
