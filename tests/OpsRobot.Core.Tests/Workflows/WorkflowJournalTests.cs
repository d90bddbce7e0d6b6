using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Rehearsal;
using OpsRobot.Core.Workflows.Runtime;
using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Tests.Workflows;

/// <summary>
/// A workflow's state stored as a whole state and then steps of what changed: every step, applied to what was stored
/// before it, must give the state exactly; a step stays small however long the run; steps out of order are refused.
/// </summary>
public sealed class WorkflowJournalTests : IDisposable
{
    private static readonly WorkflowExpressions Expressions = new();
    private static readonly WorkflowLoader Loader = new(Expressions);
    private static readonly string SpecsFolder = Path.Combine(AppContext.BaseDirectory, "Workflows", "Specs");

    private readonly AesGcmSecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    public void Dispose() => _protector.Dispose();

    /// <summary>Stores a state as the runner does (whole, then steps) and checks each step against the state itself.</summary>
    private sealed class Checker
    {
        private string? _stored;

        public int Whole { get; private set; }

        public int Steps { get; private set; }

        public List<int> StepLengths { get; } = [];

        public void Save(WorkflowState state)
        {
            var step = WorkflowJournal.TakeStep(state);
            var now = JsonSerializer.Serialize(state);
            if (step is null)
            {
                Whole++;
            }
            else
            {
                JsonSerializer.Serialize(WorkflowJournal.Replay(_stored!, [step])).ShouldBe(now);
                Steps++;
                StepLengths.Add(step.Length);
            }

            WorkflowJournal.Stored(state);
            _stored = now;
        }
    }

    // Orquesta's reference workflows with their rehearsal mocks: failures, retries, cycles, joins, with-items, engine
    // commands. The state is saved after every task's events; only the first save may store it whole.
    [Theory]
    [MemberData(nameof(RehearsalSpecTests.Specs), MemberType = typeof(RehearsalSpecTests))]
    public void Rehearsal_EveryStepBringsTheStoredStateUpToDate(string name)
    {
        var checker = new Checker();
        var rehearsal = new WorkflowRehearsal(Loader, Expressions) { Observer = checker.Save };

        var result = rehearsal.Run(Path.Combine(SpecsFolder, name + ".yaml"));

        result.Passed.ShouldBeTrue(string.Join(Environment.NewLine, result.Differences));
        checker.Whole.ShouldBe(1);
        checker.Steps.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void LongSequence_TheLastStepIsNoBiggerThanTheFirst()
    {
        // Without publishing: a run that publishes starts from every context published before it (Orquesta's model),
        // so its own record grows with the sequence, whatever the storage.
        var c = WorkflowConductor.Start(Loader.Load(Sequence(500, publish: false), "seq.yaml"), Expressions, null);
        var checker = new Checker();
        checker.Save(c.State);

        for (var next = c.GetNextTasks(); next.Count > 0; next = c.GetNextTasks())
        {
            var task = next.ShouldHaveSingleItem();
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Requested));
            checker.Save(c.State);
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, new JsonObject { ["n"] = task.Id }));
        }

        checker.Save(c.State);
        c.Status.ShouldBe(Succeeded);
        var whole = JsonSerializer.Serialize(c.State).Length;
        checker.Steps.ShouldBe(501);
        checker.StepLengths[^2].ShouldBeLessThan(checker.StepLengths[5] * 2);
        checker.StepLengths.Max().ShouldBeLessThan(whole / 50);
    }

    [Fact]
    public void WithItems_OneAtATime_StepsCarryOnlyTheItemsThatMoved()
    {
        var c = WorkflowConductor.Start(Loader.Load(Items(2000, concurrency: 4), "items.yaml"), Expressions, null);
        var checker = new Checker();
        checker.Save(c.State);

        for (var next = c.GetNextTasks(); next.Count > 0; next = c.GetNextTasks())
        {
            var task = next.ShouldHaveSingleItem();
            foreach (var action in task.Actions)
            {
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Requested, null, action.ItemId));
            }

            checker.Save(c.State);
            foreach (var action in task.Actions)
            {
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Running, null, action.ItemId));
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, JsonValue.Create(action.ItemId * 10), action.ItemId));
            }
        }

        checker.Save(c.State);
        c.Status.ShouldBe(Succeeded);
        c.State.Sequence.Single().Result!.AsArray().Count.ShouldBe(2000);
        checker.Whole.ShouldBe(1);
        // The first step stores the item lists the task started with; after it, only the items that moved.
        checker.StepLengths[0].ShouldBeGreaterThan(10_000);
        checker.StepLengths.Skip(1).SkipLast(1).Max().ShouldBeLessThan(2000);
    }

    [Fact]
    public void Rerun_StoresTheStateWhole()
    {
        var c = WorkflowConductor.Start(Loader.Load(Sequence(3), "seq.yaml"), Expressions, null);
        var checker = new Checker();
        checker.Save(c.State);
        var a = c.GetNextTasks().Single();
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Running));
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Failed, new JsonObject { ["error"] = "boom" }));
        checker.Save(c.State);
        c.Status.ShouldBe(Failed);

        c.RequestRerun(null);

        WorkflowJournal.TakeStep(c.State).ShouldBeNull();
    }

    [Fact]
    public void Replay_AStepMissing_IsRefused()
    {
        var c = WorkflowConductor.Start(Loader.Load(Sequence(4), "seq.yaml"), Expressions, null);
        var whole = JsonSerializer.Serialize(c.State);
        WorkflowJournal.Stored(c.State);
        var steps = new List<string>();
        for (var next = c.GetNextTasks(); next.Count > 0; next = c.GetNextTasks())
        {
            var task = next.Single();
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded));
            steps.Add(WorkflowJournal.TakeStep(c.State)!);
            WorkflowJournal.Stored(c.State);
        }

        JsonSerializer.Serialize(WorkflowJournal.Replay(whole, steps)).ShouldBe(JsonSerializer.Serialize(c.State));
        Should.Throw<JsonException>(() => WorkflowJournal.Replay(whole, [steps[0], steps[2]])).Message.ShouldContain("a step is missing");
    }

    [Fact]
    public async Task Writer_StoresWholeThenStepsAndWholeAgainOnceTheStepsOutgrowIt()
    {
        var store = new MemoryWorkflowStore();
        var c = WorkflowConductor.Start(Loader.Load(Sequence(400), "seq.yaml"), Expressions, null);
        var writer = new WorkflowRunWriter(store, 1, "ops.flow", "/flow.yaml", 0, null);
        var log = new WorkflowDispatchLog();

        (await writer.SaveAsync(c.State, log, finished: false, CancellationToken.None)).ShouldBeTrue();
        var maxSteps = 0;
        for (var next = c.GetNextTasks(); next.Count > 0; next = c.GetNextTasks())
        {
            var task = next.Single();
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, new JsonObject { ["out"] = new string('x', 200) }));
            (await writer.SaveAsync(c.State, log, finished: false, CancellationToken.None)).ShouldBeTrue();
            maxSteps = Math.Max(maxSteps, store.Run!.Steps.Count);

            // What is stored reads back as the state, at every save.
            JsonSerializer.Serialize(new WorkflowStateSeal(null).ReadState(store.Run)).ShouldBe(JsonSerializer.Serialize(c.State));
        }

        writer.Saves.Whole.ShouldBeGreaterThan(1);
        writer.Saves.Steps.ShouldBeGreaterThan(writer.Saves.Whole * 10);
        store.Run!.Steps.Sum(s => s.Text.Length).ShouldBeLessThanOrEqualTo(Math.Max(store.Run.State.Length, WorkflowRunWriter.MinStepBudget));

        (await writer.SaveAsync(c.State, log, finished: true, CancellationToken.None)).ShouldBeTrue();
        store.Run.Steps.ShouldBeEmpty();
        store.Run.Finished.ShouldBeTrue();
        store.Run.Version.ShouldBe(writer.Version);
        maxSteps.ShouldBeGreaterThan(10);
    }

    [Fact]
    public async Task Writer_SealedSteps_AreBoundToTheirVersion()
    {
        var seal = new WorkflowStateSeal(_protector);
        var store = new MemoryWorkflowStore();
        var c = WorkflowConductor.Start(Loader.Load(Sequence(5), "seq.yaml"), Expressions, new JsonObject { ["token"] = "s3cret-value" });
        var writer = new WorkflowRunWriter(store, 7, "ops.flow", "/flow.yaml", 0, seal);
        await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            var task = c.GetNextTasks().Single();
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, JsonValue.Create("s3cret-value")));
            await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
        }

        var run = store.Run!;
        run.Steps.Count.ShouldBe(2);
        run.Steps.ShouldAllBe(s => WorkflowStateSeal.IsSealed(s.Text) && !s.Text.Contains("s3cret", StringComparison.Ordinal));
        seal.ReadState(run).Sequence.Count.ShouldBe(2);

        // The same two steps, swapped: each is bound to the version it was stored as.
        var swapped = Copy(run, [new WorkflowStoredStep(run.Steps[0].Version, run.Steps[1].Text), new WorkflowStoredStep(run.Steps[1].Version, run.Steps[0].Text)]);
        Should.Throw<DatastoreException>(() => seal.ReadState(swapped));

        // A step in clear slipped into a sealed run is refused, as are actions in flight sealed for another version.
        var clear = Copy(run, [run.Steps[0], new WorkflowStoredStep(run.Steps[1].Version, """{"status":"succeeded","contexts_from":1,"errors_from":0}""")]);
        Should.Throw<DatastoreException>(() => seal.ReadState(clear)).Message.ShouldContain("in clear");
        seal.ReadDispatches(run).InFlight.ShouldBeEmpty();
        var older = Copy(run, [run.Steps[0]], run.Version - 1);
        Should.Throw<DatastoreException>(() => seal.ReadDispatches(older));
    }

    [Fact]
    public async Task ReadState_AStepMissing_IsRefused_EvenOneThatOnlyMovedItems()
    {
        var store = new MemoryWorkflowStore();
        var c = WorkflowConductor.Start(Loader.Load(Items(20, concurrency: 2), "items.yaml"), Expressions, null);
        var writer = new WorkflowRunWriter(store, 3, "ops.flow", "/flow.yaml", 0, null);
        await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
        for (var round = 0; round < 3; round++)
        {
            var task = c.GetNextTasks().Single();
            foreach (var action in task.Actions)
            {
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Requested, null, action.ItemId));
            }

            await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
            foreach (var action in task.Actions)
            {
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Running, null, action.ItemId));
            }

            await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
            foreach (var action in task.Actions)
            {
                c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, null, action.ItemId));
            }
        }

        var run = store.Run!;
        run.Steps.Count.ShouldBe(6);
        var seal = new WorkflowStateSeal(null);
        JsonSerializer.Serialize(seal.ReadState(run)).ShouldBe(JsonSerializer.Serialize(WorkflowJournal.Replay(run.State, run.Steps.Select(s => s.Text))));

        // The fourth step only marks two items running: without it the items would read as merely requested.
        var gap = Copy(run, [.. run.Steps.Where((_, i) => i != 3)]);
        Should.Throw<DatastoreException>(() => seal.ReadState(gap)).Message.ShouldContain("one by one");
    }

    [Fact]
    public async Task Writer_ASaveRefused_StoresTheStateWholeNextTime()
    {
        var store = new MemoryWorkflowStore();
        var c = WorkflowConductor.Start(Loader.Load(Sequence(5), "seq.yaml"), Expressions, null);
        var writer = new WorkflowRunWriter(store, 1, "ops.flow", "/flow.yaml", 0, null);
        await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None);
        var task = c.GetNextTasks().Single();
        c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
        store.FailNext = true;

        await Should.ThrowAsync<IOException>(() => writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None));
        c.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded));
        (await writer.SaveAsync(c.State, new WorkflowDispatchLog(), finished: false, CancellationToken.None)).ShouldBeTrue();

        writer.Saves.ShouldBe((2, 0));
        store.Run!.Steps.ShouldBeEmpty();
        JsonSerializer.Serialize(new WorkflowStateSeal(null).ReadState(store.Run)).ShouldBe(JsonSerializer.Serialize(c.State));
    }

    /// <summary>A stored run as read back, with other steps (and version) in it: what a damaged or forged store would hold.</summary>
    private static WorkflowRunRecord Copy(WorkflowRunRecord run, IReadOnlyList<WorkflowStoredStep> steps, long? version = null) => new()
    {
        ExecutionId = run.ExecutionId,
        ActionRef = run.ActionRef,
        WorkflowFile = run.WorkflowFile,
        State = run.State,
        Dispatches = run.Dispatches,
        Version = version ?? run.Version,
        BaseVersion = run.BaseVersion,
        Steps = steps,
    };

    private static string Sequence(int n, bool publish = true)
    {
        var sb = new StringBuilder("version: 1.0\ninput:\n  - token: none\ntasks:\n");
        for (var i = 1; i <= n; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  t{i}:\n    action: core.noop\n");
            if (i < n)
            {
                var published = publish ? "        publish: last=<% result() %>\n" : string.Empty;
                sb.Append(CultureInfo.InvariantCulture, $"    next:\n      - when: <% succeeded() %>\n{published}        do: t{i + 1}\n");
            }
        }

        return sb.ToString();
    }

    private static string Items(int n, int concurrency) =>
        $"version: 1.0\nvars:\n  - xs: <% range({n}) %>\ntasks:\n  each:\n    with:\n      items: <% ctx(xs) %>\n      concurrency: {concurrency}\n    action: core.noop\n    input:\n      i: <% item() %>\n";

    /// <summary>One run kept in memory, as the SQLite store keeps it (compare-and-set versions, steps after the whole state).</summary>
    private sealed class MemoryWorkflowStore : IWorkflowStore
    {
        public WorkflowRunRecord? Run { get; private set; }

        public bool FailNext { get; set; }

        public Task<WorkflowRunRecord?> GetAsync(long executionId, CancellationToken cancellationToken) => Task.FromResult(Run);

        public Task<bool> SaveAsync(WorkflowRunRecord run, long expectedVersion, CancellationToken cancellationToken)
        {
            Fail();
            if ((Run?.Version ?? 0) != expectedVersion)
            {
                return Task.FromResult(false);
            }

            Run = new WorkflowRunRecord
            {
                ExecutionId = run.ExecutionId,
                ActionRef = run.ActionRef,
                WorkflowFile = run.WorkflowFile,
                State = run.State,
                Dispatches = run.Dispatches,
                Finished = run.Finished,
                Version = expectedVersion + 1,
                BaseVersion = expectedVersion + 1,
            };
            return Task.FromResult(true);
        }

        public Task<bool> AppendStepAsync(long executionId, long expectedVersion, string stepText, string dispatches, CancellationToken cancellationToken)
        {
            Fail();
            if (Run is null || Run.Version != expectedVersion || Run.Finished)
            {
                return Task.FromResult(false);
            }

            Run = new WorkflowRunRecord
            {
                ExecutionId = Run.ExecutionId,
                ActionRef = Run.ActionRef,
                WorkflowFile = Run.WorkflowFile,
                State = Run.State,
                Steps = [.. Run.Steps, new WorkflowStoredStep(expectedVersion + 1, stepText)],
                Dispatches = dispatches,
                Version = expectedVersion + 1,
                BaseVersion = Run.BaseVersion,
            };
            return Task.FromResult(true);
        }

        public Task<IReadOnlyList<WorkflowRunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<WorkflowRunRecord>>(Run is { Finished: false } ? [Run] : []);

        private void Fail()
        {
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("disk full");
            }
        }
    }
}
