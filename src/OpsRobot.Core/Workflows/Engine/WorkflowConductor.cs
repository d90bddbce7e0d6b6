using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Workflows.Expressions;
using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Workflows.Engine;

/// <summary>An action a task asks to run: the action reference, its evaluated input, and the item it is for.</summary>
public sealed record TaskAction(string? Action, JsonObject Input, int? ItemId);

/// <summary>A task the engine wants started, with the actions to run for it.</summary>
/// <param name="Id">The task.</param>
/// <param name="Route">Its route.</param>
/// <param name="Actions">The actions to start now (one; or, with items, those the concurrency allows).</param>
/// <param name="Delay">Seconds to wait before starting, or null.</param>
/// <param name="ItemsCount">With items: how many items there are in all; null otherwise.</param>
public sealed record NextTask(string Id, int Route, IReadOnlyList<TaskAction> Actions, int? Delay, int? ItemsCount);

/// <summary>Something that happened to a task's action: a new status, with its result when it ended.</summary>
/// <param name="Status">The action's status (<see cref="WorkflowStatuses"/>).</param>
/// <param name="Result">The action's result, when it ended.</param>
/// <param name="ItemId">For a with-items task, which item.</param>
/// <param name="AccumulatedResult">
/// For a with-items task, the results of its items so far, as the caller keeps them; when null the engine uses the
/// results it recorded item by item.
/// </param>
public sealed record TaskEvent(string Status, JsonNode? Result = null, int? ItemId = null, JsonArray? AccumulatedResult = null);

/// <summary>
/// The workflow engine: a deterministic state machine over a <see cref="WorkflowState"/>. Given the graph, the
/// state and an event (an action's new status, a pause or cancel request), it updates the state; it then says which
/// tasks to start. It does no I/O and keeps no clock, so the same events always give the same state, and a caller
/// can store the state after each step and carry on from it after a restart. Not thread-safe: one caller at a time
/// per workflow run.
/// </summary>
public sealed class WorkflowConductor
{
    private const string FailedExecution = "Execution failed. See result for details.";

    private readonly WorkflowExpressions _expressions;

    /// <summary>Carries on with a stored state.</summary>
    public WorkflowConductor(WorkflowGraph graph, WorkflowExpressions expressions, WorkflowState state)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(expressions);
        ArgumentNullException.ThrowIfNull(state);
        Graph = graph;
        _expressions = expressions;
        State = state;
    }

    public WorkflowGraph Graph { get; }

    public WorkflowState State { get; }

    public string? Status => State.Status;

    /// <summary>
    /// Starts a run: takes the inputs given, evaluates the defaults of those not given and the vars, stages the start
    /// tasks and sets the workflow running. When a default or var fails to evaluate, the run is failed with the error.
    /// </summary>
    /// <param name="graph">The workflow.</param>
    /// <param name="expressions">The expression language.</param>
    /// <param name="inputs">
    /// The values the caller gives (from chat, the API, a rule, a parent workflow). They are data, never evaluated: a
    /// value that reads <c>{{ 7*7 }}</c> stays that text (as in Orquesta). Only the workflow file's own defaults, vars,
    /// task inputs, transitions and output are expressions.
    /// </param>
    public static WorkflowConductor Start(WorkflowGraph graph, WorkflowExpressions expressions, JsonObject? inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var state = new WorkflowState { Input = inputs?.DeepClone().AsObject() ?? [] };
        var conductor = new WorkflowConductor(graph, expressions, state);
        conductor.Initialize();
        return conductor;
    }

    private void Initialize()
    {
        var ctx = new JsonObject();
        var failed = false;
        foreach (var input in Graph.Definition.Inputs)
        {
            // A given value is the caller's data: evaluating it would let anyone who can start the workflow run
            // expressions in it (read the context, the datastore through a default, fail the run at will).
            if (State.Input.TryGetPropertyValue(input.Name, out var given))
            {
                ctx[input.Name] = given?.DeepClone();
            }
            else
            {
                failed |= !TryEvaluateInto(ctx, input.Name, input.Value);
            }
        }

        foreach (var variable in Graph.Definition.Vars)
        {
            failed |= !TryEvaluateInto(ctx, variable.Name, variable.Value);
        }

        if (failed)
        {
            RequestWorkflowStatus(Failed);
            return;
        }

        State.Contexts.Add(ctx);
        State.Routes.Add([]);
        foreach (var root in Graph.Roots)
        {
            State.Staged.Add(new StagedTask { Id = root, Route = 0, In = [0], Ready = true });
        }

        RequestWorkflowStatus(Running);
    }

    private bool TryEvaluateInto(JsonObject ctx, string name, JsonNode? raw)
    {
        try
        {
            ctx[name] = _expressions.Evaluate(raw, new ExpressionScope(ctx));
            return true;
        }
        catch (WorkflowExpressionException ex)
        {
            LogError($"{name}: {ex.Message}");
            return false;
        }
    }

    // ---------------------------------------------------------------- queries

    private TaskRun? Run(string taskId, int route) =>
        State.Tasks.TryGetValue(WorkflowState.RunKey(taskId, route), out var i) ? State.Sequence[i] : null;

    private int? RunIndex(string taskId, int route) =>
        State.Tasks.TryGetValue(WorkflowState.RunKey(taskId, route), out var i) ? i : null;

    private StagedTask? Staged(string taskId, int route)
    {
        foreach (var s in State.Staged)
        {
            if (s.Id == taskId && s.Route == route)
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>The latest run of each task on each route.</summary>
    private IEnumerable<TaskRun> LatestRuns() => State.Tasks.Values.Select(i => State.Sequence[i]);

    private bool HasActiveTasks => CountOf(Requested) + CountOf(Scheduled) + CountOf(Delayed) + CountOf(Running) + CountOf(Resuming) + CountOf(Pausing) + CountOf(Canceling) > 0;

    // How many latest runs are in each status ("" for none yet): the workflow's status machine asks "is anything
    // active, pausing, canceling" after every event, and counting beats scanning a long sequence each time.
    private Dictionary<string, int>? _statusCounts;

    private Dictionary<string, int> StatusCounts => _statusCounts ??= LatestRuns()
        .GroupBy(t => t.Status ?? string.Empty, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private int CountOf(string status) => StatusCounts.GetValueOrDefault(status);

    private void Counted(string? status, int delta) =>
        StatusCounts[status ?? string.Empty] = StatusCounts.GetValueOrDefault(status ?? string.Empty) + delta;

    /// <summary>Sets the status of a task's latest run (every status change goes through here, for the counts).</summary>
    private void SetStatus(TaskRun run, string? status)
    {
        if (run.Status == status)
        {
            return;
        }

        Counted(run.Status, -1);
        Counted(status, +1);
        run.Status = status;
        Changed(run);
    }

    /// <summary>
    /// Records that a task run changed, so the next save stores it (<see cref="StateChanges"/>). Only a task's latest run
    /// changes outside a re-run; should another ever change, the state is stored whole rather than lose the change.
    /// </summary>
    private void Changed(TaskRun run)
    {
        if (State.Tasks.TryGetValue(WorkflowState.RunKey(run.Id, run.Route), out var i) && ReferenceEquals(State.Sequence[i], run))
        {
            State.Changes.Runs.Add(i);
        }
        else
        {
            State.Changes.Whole = true;
        }
    }

    private bool HasStagedTasks => State.Staged.Any(s => s.Ready && !s.Completed);

    /// <summary>The runs where the workflow ended, in sequence order.</summary>
    public IReadOnlyList<TaskRun> TerminalTasks => [.. State.Sequence.Where(t => t.Term)];

    private string? StatusOf(string taskId, int route) => Run(taskId, route)?.Status;

    private ExpressionScope Scope(JsonObject ctx, string? taskId = null, int route = 0, string? status = null, JsonNode? result = null) =>
        new(ctx)
        {
            TaskId = taskId,
            Route = route,
            TaskStatus = status,
            Result = result,
            TaskStatusLookup = StatusOf,
        };

    /// <summary>The context made of these entries, merged in order (a fresh object).</summary>
    private JsonObject Context(IEnumerable<int> indexes)
    {
        var ctx = new JsonObject();
        foreach (var i in indexes)
        {
            Merge(ctx, State.Contexts[i]);
        }

        return ctx;
    }

    private static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (key, value) in from)
        {
            if (value is JsonObject right && into[key] is JsonObject left)
            {
                Merge(left, right);
            }
            else
            {
                into[key] = value?.DeepClone();
            }
        }
    }

    // ---------------------------------------------------------------- next tasks

    /// <summary>
    /// The tasks to start now, in (task, route) order, with their actions evaluated. Nothing while the workflow is not
    /// running, except clean-up tasks of a failed workflow. A task whose action or input fails to evaluate fails the
    /// workflow (every such error is logged) and nothing is returned.
    /// </summary>
    public IReadOnlyList<NextTask> GetNextTasks()
    {
        var staged = State.Staged.Where(s => s.Ready && !s.Completed).ToList();
        if (Status == Failed)
        {
            staged = [.. staged.Where(s => s.RunOnFail)];
            if (staged.Count == 0)
            {
                return [];
            }
        }
        else if (!IsRunning(Status))
        {
            return [];
        }

        var result = new List<NextTask>();
        var failed = false;
        foreach (var s in staged)
        {
            try
            {
                if (Render(s) is { } next)
                {
                    result.Add(next);
                }
            }
            catch (WorkflowExpressionException ex)
            {
                failed = true;
                LogError(ex.Message, s.Id, s.Route);
            }
        }

        if (failed)
        {
            RequestWorkflowStatus(Failed);
            return [];
        }

        return [.. result.OrderBy(t => t.Id, StringComparer.Ordinal).ThenBy(t => t.Route)];
    }

    private NextTask? Render(StagedTask staged)
    {
        var spec = Graph.Task(staged.Id);

        // A with-items task renders a round of items at every step; its context does not change meanwhile (nothing
        // writes to it), so it is merged once rather than copied again each round.
        var ctx = spec?.With is null ? Context(staged.In) : staged.EvaluatedContext ??= Context(staged.In);
        var scope = Scope(ctx, staged.Id, staged.Route);
        int? delay = null;
        if (spec?.Delay is { } delaySpec)
        {
            delay = WholeNumber(_expressions.Evaluate(delaySpec, scope), $"The delay of task '{staged.Id}'");
        }

        if (staged.Retry is not null)
        {
            delay = staged.Retry.Delay;
        }

        if (spec?.With is not { } with)
        {
            return new NextTask(staged.Id, staged.Route, [RenderAction(spec, scope, null)], delay, null);
        }

        var items = staged.EvaluatedItems ??= _expressions.Evaluate(JsonValue.Create(with.ItemsExpression), scope) as JsonArray
            ?? throw new WorkflowExpressionException($"The items of task '{staged.Id}' ({with.ItemsExpression}) are not a list.");
        int? concurrency = with.Concurrency is null ? null : WholeNumber(_expressions.Evaluate(with.Concurrency, scope), $"The concurrency of task '{staged.Id}'");
        if (staged.Items is null || staged.Items.Count != items.Count)
        {
            staged.Items = [.. Enumerable.Repeat<string?>(null, items.Count)];
            staged.ItemResults = [.. Enumerable.Repeat<JsonNode?>(null, items.Count)];
            staged.ItemCounts = null;
            staged.FirstUnstarted = 0;
            staged.ItemsStored = false;
        }

        var counts = ItemCounts(staged);
        var active = counts.Where(kv => IsActive(kv.Key)).Sum(kv => kv.Value);
        var available = concurrency is { } c ? c - active : int.MaxValue;
        var actions = new List<TaskAction>();
        while (staged.FirstUnstarted < staged.Items.Count && staged.Items[staged.FirstUnstarted] is not null)
        {
            staged.FirstUnstarted++;
        }

        for (var i = staged.FirstUnstarted; i < staged.Items.Count && actions.Count < available; i++)
        {
            if (staged.Items[i] is null)
            {
                var item = items[i];
                if (with.Keys.Count > 0)
                {
                    var named = new JsonObject();
                    for (var k = 0; k < with.Keys.Count; k++)
                    {
                        named[with.Keys[k]] = with.Keys.Count == 1 && item is not JsonArray
                            ? item?.DeepClone()
                            : item is JsonArray tuple && k < tuple.Count ? tuple[k]?.DeepClone() : null;
                    }

                    item = named;
                }

                actions.Add(RenderAction(spec, new ExpressionScope(ctx)
                {
                    TaskId = staged.Id,
                    Route = staged.Route,
                    TaskStatusLookup = StatusOf,
                    HasItem = true,
                    Item = item,
                }, i));
            }
        }

        return actions.Count > 0 || items.Count == 0 ? new NextTask(staged.Id, staged.Route, actions, delay, items.Count) : null;
    }

    private TaskAction RenderAction(TaskDefinition? spec, ExpressionScope scope, int? item)
    {
        var action = spec?.Action is null ? null : _expressions.Evaluate(JsonValue.Create(spec.Action), scope);
        var input = spec?.Input is null ? null : _expressions.Evaluate(spec.Input, scope);
        if (input is not (null or JsonObject))
        {
            throw new WorkflowExpressionException($"The input of task '{scope.TaskId}' is not a mapping of parameters.");
        }

        if (action is not (null or JsonValue) || (action is JsonValue v && !v.TryGetValue<string>(out _)))
        {
            throw new WorkflowExpressionException($"The action of task '{scope.TaskId}' is not an action reference.");
        }

        return new TaskAction(action?.GetValue<string>(), input as JsonObject ?? [], item);
    }

    private static int WholeNumber(JsonNode? value, string what)
    {
        if (value is JsonValue v)
        {
            if (v.TryGetValue<string>(out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }

            if (v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
            {
                var d = v.TryGetValue<long>(out var l) ? l : v.TryGetValue<int>(out var i) ? i : v.GetValue<double>();
                if (d is >= 0 and <= int.MaxValue && Math.Floor(d) == d)
                {
                    return (int)d;
                }
            }
        }

        throw new WorkflowExpressionException($"{what} is not a whole number of 0 or more: {value?.ToJsonString() ?? "null"}.");
    }

    // ---------------------------------------------------------------- events

    /// <summary>Applies an action event to a task (and, through it, to the workflow).</summary>
    /// <exception cref="InvalidOperationException">The task is neither staged nor running on that route.</exception>
    public void UpdateTask(string taskId, int route, TaskEvent taskEvent)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        ArgumentNullException.ThrowIfNull(taskEvent);
        if (!IsValid(taskEvent.Status))
        {
            throw new ArgumentException($"'{taskEvent.Status}' is not a status.", nameof(taskEvent));
        }

        Update(taskId, route, taskEvent.Status, taskEvent.Result, taskEvent.ItemId, engine: null, taskEvent.AccumulatedResult);
    }

    private void Update(string taskId, int route, string status, JsonNode? result, int? itemId, string? engine, JsonArray? accumulated = null)
    {
        var staged = Staged(taskId, route);
        var run = Run(taskId, route);
        if (staged is null && run is null)
        {
            throw new InvalidOperationException($"Task '{taskId}' (route {route}) is neither waiting to start nor running.");
        }

        if (run is null || WorkflowGraph.IsEngineCommand(taskId))
        {
            run = AddRun(taskId, staged!);
        }
        else if (IsCompleted(run.Status) && IsStarting(status) && engine is null)
        {
            // A completed task that starts again is a new run: a cycle came back to it.
            if (staged is null)
            {
                throw new InvalidOperationException($"Task '{taskId}' (route {route}) has completed and was not reached again.");
            }

            run = AddRun(taskId, staged);
        }

        var runIndex = RunIndex(taskId, route)!.Value;

        // Whatever this event changes in the run (status, result, retries, transitions, end) is stored at the next save.
        State.Changes.Runs.Add(runIndex);
        if (staged is not null && staged.Items is null)
        {
            State.Staged.Remove(staged);
        }

        if (staged?.Items is not null && itemId is { } item)
        {
            if (item < 0 || item >= staged.Items.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(itemId), $"Task '{taskId}' has no item {item}.");
            }

            var counts = ItemCounts(staged);
            counts[staged.Items[item] ?? string.Empty]--;
            counts[status] = counts.GetValueOrDefault(status) + 1;
            staged.Items[item] = status;
            if (IsCompleted(status))
            {
                staged.ItemResults![item] = result?.DeepClone();
            }

            staged.ChangedItems.Add(item);
        }

        if (status == Failed)
        {
            LogEntry(FailedExecution, taskId, null, null, result);
        }

        var old = run.Status;
        SetStatus(run, engine switch
        {
            "continue" or "noop" => old is null ? Succeeded : old,
            "fail" => old is null ? Failed : old,
            "retry" => old is Succeeded or Failed ? Retrying : old,
            _ when itemId is { } i && staged?.Items is not null && StateMachines.ItemNeedsContext(status) => StateMachines.TaskOnItem(old, status, ItemsContext(staged, i)),
            _ => StateMachines.TaskOnAction(old, status),
        });
        var now = run.Status;

        if (now == Retrying)
        {
            run.Retry!.Tally++;
            if (Staged(taskId, route) is { } stale)
            {
                State.Staged.Remove(stale);
            }

            State.Staged.Add(new StagedTask
            {
                Id = taskId,
                Route = route,
                In = [.. run.In],
                Prev = new Dictionary<string, int>(run.Prev, StringComparer.Ordinal),
                Retry = run.Retry,
                Ready = true,
            });
        }

        var engineQueue = new List<(string Id, int Route)>();
        if (IsCompleted(now))
        {
            var hasItems = Graph.Task(taskId)?.With is not null;
            var current = Staged(taskId, route);
            if (hasItems && IsAbended(now) && current is not null)
            {
                current.Completed = true;
            }
            else if (current is not null)
            {
                State.Staged.Remove(current);
            }

            run.Result = !hasItems ? result?.DeepClone()
                : accumulated?.DeepClone() ?? new JsonArray([.. (current?.ItemResults ?? staged?.ItemResults ?? []).Select(r => r?.DeepClone())]);
            var ctx = Context(run.In);
            var scope = Scope(ctx, taskId, route, now, run.Result);
            if (IsActive(Status) && ShouldRetry(run, scope))
            {
                Update(taskId, route, Retrying, null, null, "retry");
                return;
            }

            if (now != old)
            {
                Transition(run, runIndex, ctx, scope, engineQueue);
            }
        }

        OnTaskStatus(taskId, route, run.Status);
        foreach (var (id, r) in engineQueue)
        {
            Update(id, r, id == "fail" ? Failed : Succeeded, null, null, id);
        }

        if (IsCompleted(Status))
        {
            run.Term = true;
        }
    }

    private TaskRun AddRun(string taskId, StagedTask staged)
    {
        var run = new TaskRun
        {
            Id = taskId,
            Route = staged.Route,
            In = [.. staged.In],
            Prev = new Dictionary<string, int>(staged.Prev, StringComparer.Ordinal),
        };
        if (Graph.Retry(taskId) is { } retry)
        {
            var scope = Scope(Context(staged.In), taskId, staged.Route);
            try
            {
                run.Retry = new RetryState
                {
                    When = retry.When,
                    Count = retry.Count is null ? 0 : WholeNumber(_expressions.Evaluate(retry.Count, scope), $"The retry count of task '{taskId}'"),
                    Delay = retry.Delay is null ? 0 : WholeNumber(_expressions.Evaluate(retry.Delay, scope), $"The retry delay of task '{taskId}'"),
                };
            }
            catch (WorkflowExpressionException ex)
            {
                // The task runs without retries; the workflow fails, as with any expression that cannot be evaluated.
                LogError(ex.Message, taskId, staged.Route);
                State.Status = Failed;
            }
        }

        var key = WorkflowState.RunKey(taskId, staged.Route);
        if (State.Tasks.TryGetValue(key, out var previous))
        {
            // The earlier run is no longer the latest: it leaves the counts.
            Counted(State.Sequence[previous].Status, -1);
        }

        Counted(null, +1);
        State.Sequence.Add(run);
        State.Tasks[key] = State.Sequence.Count - 1;
        State.Changes.Runs.Add(State.Sequence.Count - 1);
        return run;
    }

    /// <summary>How many items are in each status (built once per staged task, then kept up to date).</summary>
    private static Dictionary<string, int> ItemCounts(StagedTask staged) => staged.ItemCounts ??= staged.Items!
        .GroupBy(s => s ?? string.Empty, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>What the other items of a with-items task are doing, seen from one item's event.</summary>
    private static ItemsContext ItemsContext(StagedTask staged, int item)
    {
        var own = staged.Items![item] ?? string.Empty;
        int active = 0, paused = 0, canceled = 0, failed = 0, incomplete = 0;
        foreach (var (status, n) in ItemCounts(staged))
        {
            var count = status == own ? n - 1 : n;
            var s = status.Length == 0 ? null : status;
            active += IsActive(s) ? count : 0;
            paused += s is Pending or Paused ? count : 0;
            canceled += s == Canceled ? count : 0;
            failed += IsAbended(s) ? count : 0;
            incomplete += IsCompleted(s) ? 0 : count;
        }

        return new ItemsContext(active > 0, paused > 0, canceled > 0, failed > 0, incomplete > 0);
    }

    private bool ShouldRetry(TaskRun run, ExpressionScope scope)
    {
        if (run.Retry is not { } retry || retry.Tally >= retry.Count)
        {
            return false;
        }

        if (retry.When is null)
        {
            return IsAbended(run.Status);
        }

        try
        {
            return _expressions.IsTrue(retry.When, scope);
        }
        catch (WorkflowExpressionException ex)
        {
            LogError(ex.Message, run.Id, run.Route);
            RequestWorkflowStatus(Failed);
            return false;
        }
    }

    /// <summary>Evaluates a completed task's transitions: records which held, publishes, and stages what they lead to.</summary>
    private void Transition(TaskRun run, int runIndex, JsonObject ctx, ExpressionScope scope, List<(string Id, int Route)> engineQueue)
    {
        var edges = Graph.Next(run.Id);
        if (edges.Count == 0)
        {
            run.Term = true;
        }

        var manualFail = false;
        var readyNext = new List<StagedTask>();
        foreach (var edge in edges)
        {
            bool holds;
            try
            {
                holds = edge.When is null || _expressions.IsTrue(edge.When, scope);
            }
            catch (WorkflowExpressionException ex)
            {
                LogEntry(ex.Message, run.Id, run.Route, edge.TransitionId, null);
                RequestWorkflowStatus(Failed);
                continue;
            }

            run.Next[edge.TransitionId] = holds;
            if (!holds)
            {
                continue;
            }

            JsonObject? published = null;
            var transition = Graph.Task(run.Id)!.Next[edge.TransitionIndex];
            if (transition.Publish.Count > 0)
            {
                var rolling = ctx.DeepClone().AsObject();
                var publishScope = Scope(rolling, run.Id, run.Route, run.Status, run.Result);
                published = [];
                try
                {
                    foreach (var p in transition.Publish)
                    {
                        var value = _expressions.Evaluate(p.Value, publishScope);
                        rolling[p.Name] = value;
                        published[p.Name] = value?.DeepClone();
                    }
                }
                catch (WorkflowExpressionException ex)
                {
                    LogEntry(ex.Message, run.Id, run.Route, edge.TransitionId, null);
                    RequestWorkflowStatus(Failed);
                    continue;
                }
            }

            var outIndexes = new List<int>(run.In);
            if (published is not null)
            {
                State.Contexts.Add(published);
                outIndexes.Add(State.Contexts.Count - 1);
                run.Out = new Dictionary<string, int>(StringComparer.Ordinal) { [edge.TransitionId] = State.Contexts.Count - 1 };
            }

            var nextRoute = RouteFor(edge, run.Route);
            var next = Staged(edge.To, nextRoute);
            if (next is not null)
            {
                // A join (or a task reached again before it started): add this branch's context, without the
                // initial entry again so it cannot overwrite what other branches published.
                outIndexes.Remove(0);
                next.In.AddRange(outIndexes);
                next.Prev[edge.BackRef] = runIndex;
                next.Items = null;
                next.ItemResults = null;
                next.ItemsStored = false;
                next.ItemCounts = null;
                next.EvaluatedItems = null;
                next.EvaluatedContext = null;
                next.FirstUnstarted = 0;
                next.Completed = false;
            }
            else
            {
                next = new StagedTask { Id = edge.To, Route = nextRoute, In = outIndexes, Prev = new(StringComparer.Ordinal) { [edge.BackRef] = runIndex } };
                State.Staged.Add(next);
            }

            next.Ready = Inbound(edge.To, run.Route) == InboundStatus.Satisfied;
            if (WorkflowGraph.IsEngineCommand(edge.To))
            {
                engineQueue.Add((next.Id, next.Route));
                manualFail |= edge.To == "fail";
            }
            else if (next.Ready)
            {
                readyNext.Add(next);
            }
        }

        if (manualFail)
        {
            // A clean-up task reached by the same transition as `fail` still runs after the workflow has failed.
            foreach (var next in readyNext)
            {
                next.RunOnFail = true;
            }
        }
    }

    /// <summary>
    /// The route of the task a transition leads to: the same route, unless the target is a split (reached by several
    /// transitions, outside a cycle), which runs once per path and so gets a route of its own.
    /// </summary>
    private int RouteFor(GraphEdge edge, int route)
    {
        if (!Graph.IsSplit(edge.To) || Graph.InCycle(edge.To))
        {
            return route;
        }

        var old = State.Routes[route];
        if (old.Contains(edge.BackRef, StringComparer.Ordinal))
        {
            return route;
        }

        State.Routes.Add([.. old, edge.BackRef]);
        return State.Routes.Count - 1;
    }

    private enum InboundStatus
    {
        Satisfied,
        InProgress,
        NotSatisfied,
    }

    /// <summary>Whether a task's inbound transitions let it start: for a join, enough branches arrived; else one.</summary>
    private InboundStatus Inbound(string taskId, int route)
    {
        var evaluation = new Dictionary<string, bool?>(StringComparer.Ordinal);
        foreach (var edge in Graph.Prev(taskId))
        {
            var prev = Run(edge.From, route);
            bool? satisfied = prev is null ? null : prev.Next.TryGetValue(edge.TransitionId, out var v) && v;
            if (!evaluation.TryGetValue(edge.From, out var known) || known != true)
            {
                evaluation[edge.From] = known == false && satisfied is null ? false : satisfied;
            }
        }

        var requirement = Graph.JoinRequirement(taskId) ?? 1;
        if (evaluation.Values.Count(v => v == true) >= requirement)
        {
            return InboundStatus.Satisfied;
        }

        return evaluation.Values.Any(v => v is null) && (HasActiveTasks || HasStagedTasks) ? InboundStatus.InProgress : InboundStatus.NotSatisfied;
    }

    /// <summary>Whether a completed task has a transition that holds and leads somewhere that can still run.</summary>
    private bool HasNextTasks(string taskId, int route)
    {
        var run = Run(taskId, route);
        if (run is null || !IsCompleted(run.Status))
        {
            return false;
        }

        foreach (var edge in Graph.Next(taskId))
        {
            if (edge.To == "continue" || !run.Next.GetValueOrDefault(edge.TransitionId))
            {
                continue;
            }

            if (Graph.IsJoin(edge.To) && Inbound(edge.To, route) == InboundStatus.NotSatisfied)
            {
                continue;
            }

            return true;
        }

        return false;
    }

    private bool HasJoinNext(string taskId, int route)
    {
        var run = Run(taskId, route);
        return run is not null && Graph.Next(taskId).Any(e => Graph.IsJoin(e.To) && run.Next.GetValueOrDefault(e.TransitionId));
    }

    private void OnTaskStatus(string taskId, int route, string? taskStatus)
    {
        var remediated = IsAbended(taskStatus) && (HasNextTasks(taskId, route) || HasJoinNext(taskId, route));
        var wf = new WorkflowContext(
            Active: HasActiveTasks,
            Canceling: CountOf(Canceling) + CountOf(Canceled) > 0,
            Pausing: CountOf(Pausing) + CountOf(Paused) + CountOf(Pending) > 0,
            Incomplete: HasStagedTasks || HasNextTasks(taskId, route));
        var before = Status;
        State.Status = StateMachines.WorkflowOnTask(Status, taskStatus, remediated, wf);
        if (before != State.Status && IsCompleted(State.Status))
        {
            FailOnUnreachableJoins();
        }
    }

    /// <summary>A workflow that ends with a join still waiting for branches that can no longer come has failed.</summary>
    private void FailOnUnreachableJoins()
    {
        var unreachable = State.Staged
            .Where(s => Graph.IsJoin(s.Id) && !s.Ready && Inbound(s.Id, s.Route) == InboundStatus.NotSatisfied)
            .ToList();
        if (unreachable.Count == 0)
        {
            return;
        }

        State.Status = Failed;
        foreach (var s in unreachable)
        {
            // The text is the one StackStorm's engine logs, so rehearsal specs that expect it run unchanged.
            LogEntry($"UnreachableJoinError: The join task|route \"{s.Id}|{s.Route}\" is partially satisfied but unreachable.", s.Id, s.Route, null, null);
        }
    }

    /// <summary>
    /// Asks the workflow to change status: <c>pausing</c>/<c>paused</c>, <c>resuming</c>/<c>running</c>,
    /// <c>canceling</c>/<c>canceled</c>, <c>failed</c>. Active with-items tasks pause or cancel with it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The workflow cannot go to that status from where it is.</exception>
    public void RequestWorkflowStatus(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var current = Status;
        foreach (var run in LatestRuns().Where(t => IsActive(t.Status) || t.Status == Retrying).ToList())
        {
            var staged = Staged(run.Id, run.Route);
            var items = staged?.Items;
            SetStatus(run, StateMachines.TaskOnWorkflowRequest(
                run.Status, status, items is not null, items?.Any(IsActive) ?? false, items?.Any(i => !IsCompleted(i)) ?? false));
        }

        var active = HasActiveTasks;
        var completedOnResume = !active && !HasStagedTasks && CountOf(Paused) + CountOf(Pending) == 0;
        State.Status = StateMachines.WorkflowOnRequest(Status, status, active, completedOnResume);
        if (Status == Resuming && !active && !HasStagedTasks && CountOf(Pending) > 0)
        {
            // Nothing to carry on with while a task waits for people (an ask): the workflow stays paused until the
            // answer, as it shows while an ask waits.
            State.Status = Paused;
        }

        var updated = Status;
        if ((status == Paused && current == Pausing && updated == Pausing) || (status == Canceled && current == Canceling && updated == Canceling)
            || (status is Pausing or Paused or Resuming && current == Paused && updated == Paused && CountOf(Pending) > 0))
        {
            // Asked to pause what an ask that waits has paused already (the caller keeps it paused after the answer),
            // or to resume what an ask still holds.
            return;
        }

        if (status != current && current == updated)
        {
            throw new InvalidOperationException($"The workflow is {current ?? "not started"} and cannot be {status}.");
        }
    }

    /// <summary>
    /// Prepares a workflow that ended without succeeding to run again from its failed tasks, keeping everything that
    /// succeeded: their results and what they published stay, and they do not run again (Orquesta's workflow rerun,
    /// StackStorm's <c>st2 execution re-run --tasks</c>). Each task re-run starts from the context it started with the
    /// first time; a with-items task re-runs only the items that did not succeed. Tasks reached but never started
    /// because the workflow had failed start too. Returns the runs staged again, as <c>task__rROUTE</c>.
    /// </summary>
    /// <param name="taskIds">The tasks to re-run; none means every task whose failure ended the workflow.</param>
    /// <exception cref="InvalidOperationException">The workflow has not ended, or a task cannot be re-run (the message says why).</exception>
    public IReadOnlyList<string> RequestRerun(IReadOnlyCollection<string>? taskIds)
    {
        if (!IsCompleted(Status) || Status == Succeeded && taskIds is not { Count: > 0 })
        {
            throw new InvalidOperationException(Status == Succeeded
                ? "The workflow succeeded; there is no failed task to re-run."
                : $"The workflow is {Status ?? "not started"}; only a workflow that has ended can be re-run.");
        }

        static bool Rerunnable(TaskRun r) => IsAbended(r.Status) || r.Status == Canceled;
        var latest = LatestRuns().Where(r => !WorkflowGraph.IsEngineCommand(r.Id)).ToList();
        List<TaskRun> targets;
        if (taskIds is { Count: > 0 })
        {
            targets = [];
            foreach (var id in taskIds.Distinct(StringComparer.Ordinal))
            {
                if (Graph.Task(id) is null || WorkflowGraph.IsEngineCommand(id))
                {
                    throw new InvalidOperationException($"The workflow has no task '{id}'.");
                }

                var runs = latest.Where(r => r.Id == id).ToList();
                if (runs.Count == 0)
                {
                    throw new InvalidOperationException($"Task '{id}' never ran in this workflow, so it cannot be re-run.");
                }

                var failed = runs.Where(Rerunnable).ToList();
                if (failed.Count == 0)
                {
                    throw new InvalidOperationException($"Task '{id}' {runs[^1].Status}; only a task that failed, timed out, was canceled or was abandoned is re-run.");
                }

                targets.AddRange(failed);
            }
        }
        else
        {
            // A failure that a transition handled (remediated) did not end the workflow: it is not re-run by default.
            targets = [.. latest.Where(r => Rerunnable(r) && !HasNextTasks(r.Id, r.Route) && !HasJoinNext(r.Id, r.Route))];
            if (targets.Count == 0)
            {
                throw new InvalidOperationException("No task failed in this workflow (it ended for another reason); name the tasks to re-run.");
            }
        }

        // A re-run changes earlier runs and items in many places: the state is stored whole.
        State.Changes.Whole = true;
        var rerun = new List<string>();
        foreach (var run in targets.OrderBy(r => State.Tasks[WorkflowState.RunKey(r.Id, r.Route)]))
        {
            run.Term = false;
            if (Staged(run.Id, run.Route) is { } staged)
            {
                // A with-items task that ended badly stayed staged: its items that did not succeed run again.
                staged.Completed = false;
                staged.Ready = true;
                staged.RunOnFail = false;
                if (staged.Items is not null)
                {
                    for (var i = 0; i < staged.Items.Count; i++)
                    {
                        if (staged.Items[i] != Succeeded)
                        {
                            staged.Items[i] = null;
                            staged.ItemResults![i] = null;
                        }
                    }

                    staged.ItemCounts = null;
                    staged.FirstUnstarted = 0;
                }
            }
            else
            {
                State.Staged.Add(new StagedTask
                {
                    Id = run.Id,
                    Route = run.Route,
                    In = [.. run.In],
                    Prev = new Dictionary<string, int>(run.Prev, StringComparer.Ordinal),
                    Ready = true,
                });
            }

            rerun.Add(WorkflowState.RunKey(run.Id, run.Route));
        }

        // The errors of the tasks re-run, and those of the workflow's end (output, unreachable joins), no longer hold;
        // they are logged again if they happen again.
        var names = targets.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        State.Errors.RemoveAll(e => e.TaskId is null || names.Contains(e.TaskId) || e.Message.StartsWith("UnreachableJoinError", StringComparison.Ordinal));
        foreach (var run in State.Sequence.Where(r => r.Term && IsAbended(r.Status)))
        {
            run.Term = false;
        }

        State.Output = null;
        State.Status = Running;
        return rerun;
    }

    /// <summary>Fails the workflow with an error (something outside the engine went wrong with it).</summary>
    public void Fail(string message, string? taskId = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        LogError(message, taskId);
        if (!IsCompleted(Status) || Status == Succeeded)
        {
            State.Status = Failed;
        }
    }

    // ---------------------------------------------------------------- output

    /// <summary>
    /// Once the workflow has completed, evaluates its output from the context where it ended (the terminal tasks'
    /// contexts, merged). An output that fails to evaluate fails the workflow. Returns the output (null when none).
    /// </summary>
    public JsonObject? RenderOutput()
    {
        if (!IsCompleted(Status) || State.Output is not null || Graph.Definition.Output.Count == 0)
        {
            return State.Output;
        }

        var rolling = TerminalContext();
        var output = new JsonObject();
        var failed = false;
        foreach (var o in Graph.Definition.Output)
        {
            try
            {
                var value = _expressions.Evaluate(o.Value, Scope(rolling));
                rolling[o.Name] = value;
                output[o.Name] = value?.DeepClone();
            }
            catch (WorkflowExpressionException ex)
            {
                LogError($"{o.Name}: {ex.Message}");
                failed = true;
            }
        }

        if (output.Count > 0)
        {
            State.Output = output;
        }

        if (failed && Status is Succeeded or Failed)
        {
            State.Status = Failed;
        }

        return State.Output;
    }

    private JsonObject TerminalContext()
    {
        var terminal = TerminalTasks;
        if (terminal.Count == 0)
        {
            return State.Contexts.Count > 0 ? Context([0]) : [];
        }

        var ctx = Context(terminal[0].In);
        foreach (var run in terminal.Skip(1))
        {
            var indexes = new List<int>(run.In);
            indexes.Remove(0);
            Merge(ctx, Context(indexes));
        }

        return ctx;
    }

    // ---------------------------------------------------------------- errors

    private void LogError(string message, string? taskId = null, int? route = null) => LogEntry(message, taskId, route, null, null);

    private void LogEntry(string message, string? taskId, int? route, string? transitionId, JsonNode? result)
    {
        var entry = new WorkflowLogEntry { Message = message, TaskId = taskId, Route = route, TaskTransitionId = transitionId, Result = result?.DeepClone() };
        var json = entry.ToJson();
        if (!State.Errors.Any(e => JsonNode.DeepEquals(e.ToJson(), json)))
        {
            State.Errors.Add(entry);
        }
    }
}
