using System.Text.Json.Nodes;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Workflows.Runtime;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>Workflow runs in a real SQLite file: compare-and-set saves, unfinished runs, survival across a reopen.</summary>
public sealed class SqliteWorkflowStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-wfstore");
    private readonly TestTimeProvider _time = new();
    private readonly List<SqliteDatabase> _opened = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var database in _opened)
        {
            await SqliteTestDatabase.ClosePoolAsync(database);
        }

        _dir.Dispose();
    }

    private async Task<(SqliteWorkflowStore Runs, SqliteExecutionStore Executions)> OpenAsync()
    {
        var folder = _dir.Combine($"view{_opened.Count}");
        if (_opened.Count == 0)
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateSymbolicLink(folder, _dir.Combine("view0"));
        }

        var database = SqliteTestDatabase.Create(Path.Combine(folder, "opsrobot.db"));
        _opened.Add(database);
        await database.MigrateAsync(_time, CancellationToken.None);
        return (new SqliteWorkflowStore(database, _time), new SqliteExecutionStore(database));
    }

    private async Task<long> NewExecutionAsync(SqliteExecutionStore executions) =>
        (await executions.CreateAsync(new ExecutionRecord
        {
            Id = 0,
            ActionRef = "ops.flow",
            RunnerType = "workflow",
            Parameters = [],
            Status = ExecutionStatus.Running,
            Requester = new ExecutionRequester { Door = ExecutionDoor.Api, UserName = "alice" },
            CreatedAt = _time.GetUtcNow(),
            Owner = "host:1:2",
        }, CancellationToken.None)).Id;

    private static WorkflowRunRecord Run(long id, string state, bool finished = false) => new()
    {
        ExecutionId = id,
        ActionRef = "ops.flow",
        WorkflowFile = "/packs/ops/actions/workflows/flow.yaml",
        State = state,
        Dispatches = "[]",
        Finished = finished,
    };

    [Fact]
    public async Task Save_NewRun_IsReadBackWithVersionOne()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);

        var saved = await runs.SaveAsync(Run(id, """{"Status":"running"}"""), 0, CancellationToken.None);
        var read = await runs.GetAsync(id, CancellationToken.None);

        saved.ShouldBeTrue();
        read.ShouldNotBeNull();
        read.Version.ShouldBe(1);
        read.State.ShouldBe("""{"Status":"running"}""");
        read.WorkflowFile.ShouldBe("/packs/ops/actions/workflows/flow.yaml");
        read.UpdatedAt.ShouldBe(_time.GetUtcNow());
    }

    [Fact]
    public async Task Save_WithAStaleVersion_IsRefusedAndChangesNothing()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(id, "v1"), 0, CancellationToken.None);
        (await runs.SaveAsync(Run(id, "v2"), 1, CancellationToken.None)).ShouldBeTrue();

        var stale = await runs.SaveAsync(Run(id, "stale"), 1, CancellationToken.None);
        var again = await runs.SaveAsync(Run(id, "new again"), 0, CancellationToken.None);
        var read = await runs.GetAsync(id, CancellationToken.None);

        stale.ShouldBeFalse();
        again.ShouldBeFalse();
        read!.State.ShouldBe("v2");
        read.Version.ShouldBe(2);
    }

    [Fact]
    public async Task ListUnfinished_LeavesOutFinishedRuns_AndSurvivesAReopen()
    {
        var (runs, executions) = await OpenAsync();
        var a = await NewExecutionAsync(executions);
        var b = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(a, "a"), 0, CancellationToken.None);
        await runs.SaveAsync(Run(b, "b"), 0, CancellationToken.None);
        await runs.SaveAsync(Run(b, "b done", finished: true), 1, CancellationToken.None);

        var (reopened, _) = await OpenAsync();
        var unfinished = await reopened.ListUnfinishedAsync(CancellationToken.None);

        unfinished.Select(r => r.ExecutionId).ShouldBe([a]);
        (await reopened.GetAsync(b, CancellationToken.None))!.Finished.ShouldBeTrue();
    }

    [Fact]
    public async Task Save_LargeState_RoundTripsExactly()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        var state = new JsonObject { ["Sequence"] = new JsonArray([.. Enumerable.Range(0, 5000).Select(i => (JsonNode)new JsonObject { ["Id"] = $"t{i}", ["Status"] = "succeeded" })]) }.ToJsonString();

        await runs.SaveAsync(Run(id, state), 0, CancellationToken.None);

        (await runs.GetAsync(id, CancellationToken.None))!.State.ShouldBe(state);
    }

    [Fact]
    public async Task AppendStep_IsReadBackAfterTheWholeStateInOrder_AndTheNextWholeSaveRemovesThem()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(id, "whole-1"), 0, CancellationToken.None);

        (await runs.AppendStepAsync(id, 1, "step-2", "[2]", CancellationToken.None)).ShouldBeTrue();
        (await runs.AppendStepAsync(id, 2, "step-3", "[3]", CancellationToken.None)).ShouldBeTrue();
        var (reopened, _) = await OpenAsync();
        var read = await reopened.GetAsync(id, CancellationToken.None);
        var unfinished = (await reopened.ListUnfinishedAsync(CancellationToken.None)).ShouldHaveSingleItem();

        read!.State.ShouldBe("whole-1");
        read.Version.ShouldBe(3);
        read.Dispatches.ShouldBe("[3]");
        read.Steps.ShouldBe([new WorkflowStoredStep(2, "step-2"), new WorkflowStoredStep(3, "step-3")]);
        unfinished.Steps.ShouldBe(read.Steps);

        (await runs.SaveAsync(Run(id, "whole-4"), 3, CancellationToken.None)).ShouldBeTrue();
        var compacted = await runs.GetAsync(id, CancellationToken.None);
        compacted!.State.ShouldBe("whole-4");
        compacted.Steps.ShouldBeEmpty();
    }

    [Fact]
    public async Task AppendStep_WithAStaleVersion_IsRefusedAndStoresNothing()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(id, "whole-1"), 0, CancellationToken.None);
        await runs.AppendStepAsync(id, 1, "step-2", "[]", CancellationToken.None);

        var stale = await runs.AppendStepAsync(id, 1, "stale", "[stale]", CancellationToken.None);
        var staleWhole = await runs.SaveAsync(Run(id, "stale whole"), 1, CancellationToken.None);
        var read = await runs.GetAsync(id, CancellationToken.None);

        stale.ShouldBeFalse();
        staleWhole.ShouldBeFalse();
        read!.Steps.ShouldBe([new WorkflowStoredStep(2, "step-2")]);
        read.Finished.ShouldBeFalse();
        read.Version.ShouldBe(2);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => runs.AppendStepAsync(id, 0, "first", "[]", CancellationToken.None));
    }

    [Fact]
    public async Task AppendStep_AfterTheRunFinished_IsRefused()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(id, "whole-1"), 0, CancellationToken.None);
        await runs.AppendStepAsync(id, 1, "step-2", "[]", CancellationToken.None);
        await runs.SaveAsync(Run(id, "whole-3", finished: true), 2, CancellationToken.None);

        (await runs.AppendStepAsync(id, 3, "late", "[]", CancellationToken.None)).ShouldBeFalse();
        (await runs.ListUnfinishedAsync(CancellationToken.None)).ShouldBeEmpty();
        (await runs.GetAsync(id, CancellationToken.None))!.Steps.ShouldBeEmpty();
    }

    [Fact]
    public async Task AppendStep_LeavesTheRunsRowAndItsWholeStateUntouched()
    {
        var (runs, executions) = await OpenAsync();
        var id = await NewExecutionAsync(executions);
        await runs.SaveAsync(Run(id, "whole-1"), 0, CancellationToken.None);
        var before = await RowVersionAsync(id);

        await runs.AppendStepAsync(id, 1, "step-2", "[2]", CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await runs.AppendStepAsync(id, 2, "step-3", "[3]", CancellationToken.None);

        (await RowVersionAsync(id)).ShouldBe(before);
        var read = await runs.GetAsync(id, CancellationToken.None);
        read!.Version.ShouldBe(3);
        read.UpdatedAt.ShouldBe(_time.GetUtcNow());
    }

    /// <summary>The run row's own version column and time, as stored.</summary>
    private async Task<(long Version, long UpdatedAt)> RowVersionAsync(long id)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.Combine("view0", "opsrobot.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT version, updated_at FROM workflow_runs WHERE execution_id = {id}";
        await using var reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
