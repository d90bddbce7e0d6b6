using Dapper;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Workflow runs in SQLite (table <c>workflow_runs</c>).</summary>
public sealed class SqliteWorkflowStore(SqliteDatabase database, TimeProvider time) : SqliteStoreBase(database), IWorkflowStore
{
    private const string Columns =
        "execution_id AS ExecutionId, action_ref AS ActionRef, workflow_file AS WorkflowFile, version AS Version, state AS State, " +
        "dispatches AS Dispatches, finished AS Finished, updated_at AS UpdatedAt";

    public Task<WorkflowRunRecord?> GetAsync(long executionId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM workflow_runs WHERE execution_id = @executionId", new { executionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row?.ToRecord();
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
        return WithConnectionAsync(async c =>
        {
            var changed = expectedVersion == 0
                ? await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO workflow_runs (execution_id, action_ref, workflow_file, version, state, dispatches, finished, updated_at)
                    VALUES (@ExecutionId, @ActionRef, @WorkflowFile, @Version, @State, @Dispatches, @Finished, @UpdatedAt)
                    ON CONFLICT (execution_id) DO NOTHING
                    """, args, cancellationToken: cancellationToken)).ConfigureAwait(false)
                : await c.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE workflow_runs SET version = @Version, state = @State, dispatches = @Dispatches, finished = @Finished, updated_at = @UpdatedAt
                    WHERE execution_id = @ExecutionId AND version = @Expected
                    """, args, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return changed == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<WorkflowRunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM workflow_runs WHERE finished = 0 ORDER BY execution_id", cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (IReadOnlyList<WorkflowRunRecord>)[.. rows.Select(r => r.ToRecord())];
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

        public WorkflowRunRecord ToRecord() => new()
        {
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
}
