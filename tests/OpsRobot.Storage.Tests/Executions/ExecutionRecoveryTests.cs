using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Executions;

/// <summary>
/// <see cref="ExecutionService.RecoverAsync(bool, CancellationToken)"/> on a real SQLite store: what a gone process left is run (queued,
/// never started) or abandoned with the reason (started, or not startable again); live owners are left alone.
/// </summary>
public sealed class ExecutionRecoveryTests : IAsyncLifetime
{
    private const string GoneOwner = "no-such-host:1:2";
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TestTimeProvider _time = new();
    private readonly RecordingRunner _runner = new();
    private ExecutionServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ExecutionServiceHarness.StartAsync("opsrobot-recovery", _time, _runner, new Dictionary<string, string>
    {
        ["restart.yaml"] = """
            name: restart
            runner_type: recording
            parameters:
              host: {type: string, required: true}
              cmd: {type: string, immutable: true, default: "restart it"}
            """,
        ["login.yaml"] = """
            name: login
            runner_type: recording
            parameters:
              password: {type: string, secret: true, required: true}
            """,
    });

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private Task<ExecutionRecord> LeftOverAsync(string action, JsonObject parameters, ExecutionStatus status, long? parent = null, string owner = GoneOwner, bool secretsMasked = false) =>
        _harness.Store.CreateAsync(new ExecutionRecord
        {
            Id = 0,
            ActionRef = action,
            RunnerType = "recording",
            Parameters = parameters,
            Status = status,
            Requester = new ExecutionRequester { Door = ExecutionDoor.Api, UserName = "alice" },
            CreatedAt = _time.GetUtcNow(),
            ParentId = parent,
            Owner = owner,
            SecretsMasked = secretsMasked,
        }, None);

    [Fact]
    public async Task Recover_QueuedNeverStarted_RunsItOnceWithItsParameters()
    {
        var queued = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1", ["cmd"] = "restart it" }, ExecutionStatus.Scheduled);

        var recovery = await _harness.Executions.RecoverAsync(None);
        var final = await recovery.Resumed.Single().Outcome.WaitAsync(TimeSpan.FromSeconds(30));

        recovery.Abandoned.ShouldBeEmpty();
        final.Id.ShouldBe(queued.Id);
        final.Status.ShouldBe(ExecutionStatus.Succeeded);
        final.Owner.ShouldBe(ExecutionService.ProcessOwner);
        _runner.Runs.Single()["host"]!.GetValue<string>().ShouldBe("web1");
        (await _harness.Executions.RecoverAsync(None)).Resumed.ShouldBeEmpty("it is this process's now, and finished");
    }

    [Theory]
    [InlineData("running: it may have done part of its work", "running")]
    [InlineData("a workflow's step: the workflow requests it again", "child")]
    [InlineData("secret parameters are not stored in clear", "secret")]
    [InlineData("a secret handed over (a rule's datastore secret) was masked in its parameters", "derived")]
    [InlineData("its action is gone", "gone")]
    public async Task Recover_NotStartableAgain_IsAbandonedWithTheReason(string row, string kind)
    {
        var left = kind switch
        {
            "running" => await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Running),
            "child" => await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Requested,
                parent: (await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "wf" }, ExecutionStatus.Running, owner: ExecutionService.ProcessOwner)).Id),
            "secret" => await LeftOverAsync("ops.login", new JsonObject { ["password"] = SecretMask.Mask }, ExecutionStatus.Requested),
            "derived" => await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1 token=" + SecretMask.Mask, ["cmd"] = "restart it" }, ExecutionStatus.Requested, secretsMasked: true),
            // Close to a loaded action's name: the sentence goes to the requester's room, so it suggests none.
            _ => await LeftOverAsync("ops.restarts", [], ExecutionStatus.Requested),
        };

        var recovery = await _harness.Executions.RecoverAsync(None);

        recovery.Resumed.ShouldBeEmpty(row);
        var abandoned = recovery.Abandoned.Single();
        abandoned.Id.ShouldBe(left.Id);
        abandoned.Status.ShouldBe(ExecutionStatus.Abandoned);
        abandoned.Error.ShouldNotBeNull().ShouldContain(kind switch
        {
            "running" => "while this execution was running",
            "child" => "step of workflow #",
            "secret" => "secret parameters",
            "derived" => "secret values in its parameters, which are never stored in clear",
            _ => "cannot be started again: There is no action ops.restarts any more.",
        }, Case.Sensitive, row);
        abandoned.Error.ShouldNotContain("Did you mean", Case.Sensitive, row);
        _runner.Runs.ShouldBeEmpty(row);
    }

    [Theory]
    [InlineData("requester", "requester = '{\"door\": 0, \"userName\": '")]
    [InlineData("parameters", "parameters = 'not json'")]
    [InlineData("parameters", "parameters = '[1, 2]'")]
    [InlineData("requester", "requester = 'null'")]
    public async Task Recover_ARecordWhoseStoredJsonCannotBeRead_IsAbandonedNotRunAndRecoveryGoesOn(string column, string damage)
    {
        var broken = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Requested);
        var sound = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web2" }, ExecutionStatus.Requested);
        await using (var connection = await _harness.Database.OpenAsync(None))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE executions SET {damage} WHERE id = {broken.Id}";
            (await command.ExecuteNonQueryAsync(None)).ShouldBe(1);
        }

        var recovery = await _harness.Executions.RecoverAsync(None);
        var resumed = await recovery.Resumed.Single().Outcome.WaitAsync(TimeSpan.FromSeconds(30));

        resumed.Id.ShouldBe(sound.Id, "one damaged record does not stop the others' recovery");
        _runner.Runs.Single()["host"]!.GetValue<string>().ShouldBe("web2");
        var abandoned = recovery.Abandoned.Single();
        abandoned.Id.ShouldBe(broken.Id);
        abandoned.Status.ShouldBe(ExecutionStatus.Abandoned);
        abandoned.Error.ShouldNotBeNull().ShouldContain("its stored record cannot be read");
        abandoned.Error.ShouldContain($"the stored {column}: ");
        var read = (await _harness.Store.GetAsync(broken.Id, None)).ShouldNotBeNull();
        read.Damage.ShouldNotBeNull().ShouldContain(column);
        if (column == "requester")
        {
            read.Requester.Door.ShouldBe(ExecutionDoor.Unknown);
            read.Requester.UserName.ShouldBe("alice", "the user name is kept in a column of its own");
        }
        else
        {
            read.Parameters.ShouldBeEmpty();
            read.Requester.UserName.ShouldBe("alice");
        }

        (await _harness.Store.GetAsync(sound.Id, None)).ShouldNotBeNull().Damage.ShouldBeNull();
    }

    [Fact]
    public async Task Recover_ByAOneShotProcess_LeavesQueuedWorkForTheNextServer()
    {
        var queued = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Requested);

        var recovery = await _harness.Executions.RecoverAsync(takeOverQueued: false, None);

        recovery.Resumed.ShouldBeEmpty();
        recovery.Abandoned.ShouldBeEmpty();
        var read = (await _harness.Store.GetAsync(queued.Id, None))!;
        read.Status.ShouldBe(ExecutionStatus.Requested);
        read.Owner.ShouldBe(GoneOwner);
        _runner.Runs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Recover_QueuedByALiveProcess_IsLeftAlone()
    {
        var live = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Requested, owner: ExecutionService.ProcessOwner);

        var recovery = await _harness.Executions.RecoverAsync(None);

        recovery.Resumed.ShouldBeEmpty();
        recovery.Abandoned.ShouldBeEmpty();
        (await _harness.Store.GetAsync(live.Id, None))!.Status.ShouldBe(ExecutionStatus.Requested);
    }

    [Fact]
    public async Task Recover_RunningForAnotherLiveProcess_IsLeftAlone_UntilThatProcessIsGone()
    {
        // Another process on the same database (a server, seen from the shell chat or a second server).
        using var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", ["120"]) { UseShellExecute = false })!;
        var owner = ProcessIdentity.Of(other.Id).ShouldNotBeNull();
        var running = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Running, owner: owner);
        var queued = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web2" }, ExecutionStatus.Requested, owner: owner);
        try
        {
            var recovery = await _harness.Executions.RecoverAsync(None);

            recovery.Abandoned.ShouldBeEmpty();
            recovery.Resumed.ShouldBeEmpty("its queued work is its own to run");
            (await _harness.Store.GetAsync(running.Id, None))!.Status.ShouldBe(ExecutionStatus.Running);
            (await _harness.Store.GetAsync(queued.Id, None))!.Owner.ShouldBe(owner);
        }
        finally
        {
            other.Kill();
            await other.WaitForExitAsync();
        }

        var afterwards = await _harness.Executions.RecoverAsync(None);
        afterwards.Abandoned.Single().Id.ShouldBe(running.Id);
        (await afterwards.Resumed.Single().Outcome.WaitAsync(TimeSpan.FromSeconds(30))).Id.ShouldBe(queued.Id);
    }

    [Fact]
    public async Task Recover_AnExecutionResumedElsewhere_IsNeitherAbandonedNorTouched()
    {
        var workflow = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "wf" }, ExecutionStatus.Paused);
        var other = await LeftOverAsync("ops.restart", new JsonObject { ["host"] = "web1" }, ExecutionStatus.Running);

        var recovery = await _harness.Executions.RecoverAsync(takeOverQueued: true, (e, _) => Task.FromResult(e.Id == workflow.Id), None);

        recovery.Abandoned.Select(e => e.Id).ShouldBe([other.Id]);
        var left = (await _harness.Store.GetAsync(workflow.Id, None))!;
        left.Status.ShouldBe(ExecutionStatus.Paused);
        left.Owner.ShouldBe(GoneOwner, "its resumer claims it");
        left.Error.ShouldBeNull();
    }

    private sealed class RecordingRunner : IRunner
    {
        public ConcurrentQueue<IReadOnlyDictionary<string, JsonNode?>> Runs { get; } = new();

        public IReadOnlyList<string> Names { get; } = ["recording"];

        public IEnumerable<string> Validate(ActionDefinition action) => [];

        public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
        {
            Runs.Enqueue(context.Parameters);
            return Task.FromResult(new RunnerResult(RunnerOutcome.Succeeded, null, 0, null));
        }
    }
}
