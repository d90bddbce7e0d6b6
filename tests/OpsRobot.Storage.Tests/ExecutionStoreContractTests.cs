using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;

namespace OpsRobot.Storage.Tests;

/// <summary>What every store behind <see cref="IExecutionStore"/> must do.</summary>
public abstract partial class StoreContractTests
{
    private ExecutionRecord NewExecution(string action = "demo.say", ExecutionStatus status = ExecutionStatus.Requested, string owner = "host:1:2") => new()
    {
        Id = 0,
        ActionRef = action,
        RunnerType = "shell",
        Parameters = new JsonObject { ["message"] = "hello", ["token"] = SecretMask.Mask, ["count"] = 3 },
        Status = status,
        Requester = new ExecutionRequester { Door = ExecutionDoor.Chat, UserName = "alice", Platform = "web", RoomId = "7", RoomName = "ops", AliasRef = "demo.say" },
        CreatedAt = Time.GetUtcNow(),
        Owner = owner,
    };

    [Fact]
    public async Task CreateExecution_RoundTripsEveryField()
    {
        var created = await Executions.CreateAsync(NewExecution(), CancellationToken.None);

        var read = await Executions.GetAsync(created.Id, CancellationToken.None);

        created.Id.ShouldBeGreaterThan(0);
        read.ShouldNotBeNull();
        read.ActionRef.ShouldBe("demo.say");
        read.Status.ShouldBe(ExecutionStatus.Requested);
        read.Parameters.ToJsonString().ShouldBe("""{"message":"hello","token":"********","count":3}""");
        read.Requester.ShouldBe(created.Requester);
        read.CreatedAt.ShouldBe(Time.GetUtcNow());
        read.Owner.ShouldBe("host:1:2");
        read.Attempt.ShouldBe(1);
    }

    [Fact]
    public async Task GetMany_ReturnsEachExistingExecutionOnce_AcrossChunks()
    {
        var first = await Executions.CreateAsync(NewExecution("demo.one"), CancellationToken.None);
        var second = await Executions.CreateAsync(NewExecution("demo.two"), CancellationToken.None);
        await Executions.CreateAsync(NewExecution("demo.not_asked"), CancellationToken.None);
        // More ids than one statement takes, with repeats and ids that do not exist among them.
        long[] asked = [first.Id, .. Enumerable.Range(1, 1200).Select(i => second.Id + 1000 + i), second.Id, first.Id];

        var read = await Executions.GetManyAsync(asked, CancellationToken.None);
        var none = await Executions.GetManyAsync([], CancellationToken.None);

        read.Select(e => e.ActionRef).Order().ShouldBe(["demo.one", "demo.two"]);
        read.Single(e => e.Id == first.Id).Parameters.ToJsonString().ShouldBe(first.Parameters.ToJsonString());
        none.ShouldBeEmpty();
    }

    [Fact]
    public async Task Transition_FromTheExpectedStatus_ChangesItAndSetsOnlyGivenFields()
    {
        var e = await Executions.CreateAsync(NewExecution(), CancellationToken.None);
        var started = Time.GetUtcNow().AddSeconds(1);

        var moved = await Executions.TransitionAsync(e.Id, [ExecutionStatus.Requested], ExecutionStatus.Running, new ExecutionUpdate { StartedAt = started }, CancellationToken.None);
        var finished = await Executions.TransitionAsync(e.Id, [ExecutionStatus.Running], ExecutionStatus.Succeeded,
            new ExecutionUpdate { EndedAt = started.AddSeconds(2), ExitCode = 0, Result = new JsonObject { ["stdout"] = "hi" } }, CancellationToken.None);
        var read = await Executions.GetAsync(e.Id, CancellationToken.None);

        moved.ShouldBeTrue();
        finished.ShouldBeTrue();
        read!.Status.ShouldBe(ExecutionStatus.Succeeded);
        read.StartedAt.ShouldBe(started);
        read.EndedAt.ShouldBe(started.AddSeconds(2));
        read.ExitCode.ShouldBe(0);
        read.Result!["stdout"]!.GetValue<string>().ShouldBe("hi");
        read.Error.ShouldBeNull();
    }

    [Fact]
    public async Task Claim_OnlyFromTheGoneOwner_AndOnlyWhileWaiting_SoOneOfTwoRecoveringProcessesWins()
    {
        var queued = await Executions.CreateAsync(NewExecution(owner: "host:1:2"), CancellationToken.None);
        var running = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Running, owner: "host:1:2"), CancellationToken.None);
        var waiting = ExecutionStatuses.Waiting;

        var first = await Executions.ClaimAsync(queued.Id, "host:1:2", "host:3:4", waiting, CancellationToken.None);
        var second = await Executions.ClaimAsync(queued.Id, "host:1:2", "host:5:6", waiting, CancellationToken.None);
        var notWaiting = await Executions.ClaimAsync(running.Id, "host:1:2", "host:3:4", waiting, CancellationToken.None);

        first.ShouldBeTrue();
        second.ShouldBeFalse("the first claim changed the owner");
        notWaiting.ShouldBeFalse("a started execution is not taken over");
        (await Executions.GetAsync(queued.Id, CancellationToken.None))!.Owner.ShouldBe("host:3:4");
        (await Executions.GetAsync(running.Id, CancellationToken.None))!.Owner.ShouldBe("host:1:2");
    }

    [Fact]
    public async Task Transition_FromAnotherStatus_IsRefusedAndChangesNothing()
    {
        var e = await Executions.CreateAsync(NewExecution(), CancellationToken.None);
        await Executions.TransitionAsync(e.Id, [ExecutionStatus.Requested], ExecutionStatus.Canceled, new ExecutionUpdate { Error = "canceled by bob" }, CancellationToken.None);

        // A runner finishing after the cancel must not overwrite it.
        var late = await Executions.TransitionAsync(e.Id, [ExecutionStatus.Running], ExecutionStatus.Succeeded, new ExecutionUpdate { Error = "x" }, CancellationToken.None);

        late.ShouldBeFalse();
        var read = await Executions.GetAsync(e.Id, CancellationToken.None);
        read!.Status.ShouldBe(ExecutionStatus.Canceled);
        read.Error.ShouldBe("canceled by bob");
    }

    [Fact]
    public async Task List_FiltersAndPagesNewestFirst()
    {
        for (var i = 0; i < 5; i++)
        {
            await Executions.CreateAsync(NewExecution("demo.a"), CancellationToken.None);
            await Executions.CreateAsync(NewExecution("demo.b", ExecutionStatus.Failed), CancellationToken.None);
        }

        var page1 = await Executions.ListAsync(new ExecutionQuery { ActionRef = "demo.a", Limit = 3 }, CancellationToken.None);
        var page2 = await Executions.ListAsync(new ExecutionQuery { ActionRef = "demo.a", Limit = 3, BeforeId = page1[^1].Id }, CancellationToken.None);
        var failed = await Executions.ListAsync(new ExecutionQuery { Status = ExecutionStatus.Failed }, CancellationToken.None);
        var byUser = await Executions.ListAsync(new ExecutionQuery { UserName = "nobody" }, CancellationToken.None);

        page1.Count.ShouldBe(3);
        page1.Select(e => e.Id).ShouldBeInOrder(SortDirection.Descending);
        page2.Count.ShouldBe(2);
        var lastOfPage1 = page1[^1].Id;
        page2.ShouldAllBe(e => e.Id < lastOfPage1 && e.ActionRef == "demo.a");
        failed.Count.ShouldBe(5);
        failed.ShouldAllBe(e => e.ActionRef == "demo.b");
        byUser.ShouldBeEmpty();
    }

    [Fact]
    public async Task Output_AppendedInBatches_ReadsBackInOrderAfterASequence()
    {
        var e = await Executions.CreateAsync(NewExecution(), CancellationToken.None);
        var chunks = Enumerable.Range(1, 10)
            .Select(i => new OutputChunk(e.Id, i, i % 3 == 0 ? OutputKind.Stderr : OutputKind.Stdout, $"line {i}\n", Time.GetUtcNow()))
            .ToList();

        await Executions.AppendOutputAsync(chunks[..4], CancellationToken.None);
        await Executions.AppendOutputAsync(chunks[4..], CancellationToken.None);
        var all = await Executions.ReadOutputAsync(e.Id, 0, 100, CancellationToken.None);
        var after7 = await Executions.ReadOutputAsync(e.Id, 7, 100, CancellationToken.None);

        all.Select(c => c.Text).ShouldBe(chunks.Select(c => c.Text));
        all[2].Kind.ShouldBe(OutputKind.Stderr);
        after7.Select(c => c.Sequence).ShouldBe([8L, 9L, 10L]);
    }

    [Fact]
    public async Task ListUnfinished_ReturnsOnlyWhatIsNotFinished_AndSurvivesARestart()
    {
        var running = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Running), CancellationToken.None);
        var waiting = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Scheduled), CancellationToken.None);
        await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Succeeded), CancellationToken.None);
        await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Abandoned), CancellationToken.None);

        var restarted = await RestartAsync();
        var unfinished = await restarted.Executions.ListUnfinishedAsync(CancellationToken.None);

        unfinished.Select(e => e.Id).ShouldBe([running.Id, waiting.Id]);
    }

    [Fact]
    public async Task ListUnfinished_IncludesWorkflowsHeldByAPause_SoAfterACrashTheyAreFound()
    {
        var pausing = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Running), CancellationToken.None);
        var paused = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Running), CancellationToken.None);
        var resuming = await Executions.CreateAsync(NewExecution(status: ExecutionStatus.Running), CancellationToken.None);
        (await Executions.TransitionAsync(pausing.Id, [ExecutionStatus.Running], ExecutionStatus.Pausing, new ExecutionUpdate(), CancellationToken.None)).ShouldBeTrue();
        (await Executions.TransitionAsync(paused.Id, [ExecutionStatus.Running], ExecutionStatus.Paused, new ExecutionUpdate(), CancellationToken.None)).ShouldBeTrue();
        (await Executions.TransitionAsync(resuming.Id, [ExecutionStatus.Running], ExecutionStatus.Resuming, new ExecutionUpdate(), CancellationToken.None)).ShouldBeTrue();

        var restarted = await RestartAsync();
        var unfinished = await restarted.Executions.ListUnfinishedAsync(CancellationToken.None);

        unfinished.Select(e => (e.Id, e.Status)).ShouldBe([(pausing.Id, ExecutionStatus.Pausing), (paused.Id, ExecutionStatus.Paused), (resuming.Id, ExecutionStatus.Resuming)]);
    }
}
