using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Workflows.Rehearsal;

/// <summary>A mock that cannot apply to the workflow as it runs.</summary>
public sealed class RehearsalException : Exception
{
    public RehearsalException()
    {
    }

    public RehearsalException(string message)
        : base(message)
    {
    }

    public RehearsalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What a rehearsal found: whether every expectation held, and for each that did not, the difference.</summary>
public sealed class RehearsalResult
{
    public required RehearsalSpec Spec { get; init; }

    /// <summary>Each expectation that did not hold, as a readable paragraph (expected, actual, where they part).</summary>
    public required IReadOnlyList<string> Differences { get; init; }

    public bool Passed => Differences.Count == 0;

    /// <summary>The task sequence as it ran (<c>task__rROUTE</c>).</summary>
    public IReadOnlyList<string> TaskSequence { get; init; } = [];

    public string? WorkflowStatus { get; init; }

    public JsonObject? Output { get; init; }

    public JsonArray Errors { get; init; } = [];
}

/// <summary>
/// Runs a workflow with mocked action results, the way StackStorm's <c>orquesta-rehearse</c> does, and checks what the
/// spec expects. Each task's action "runs" by taking the first unused mock for that task (one for its run at that
/// position of the sequence first, then one for the item, then any), or succeeds with no result when none is left.
/// </summary>
public sealed class WorkflowRehearsal(WorkflowLoader loader, WorkflowExpressions expressions)
{
    /// <summary>Called with the engine's state after the run starts and after each task's events (tests watch the state through it).</summary>
    internal Action<WorkflowState>? Observer { get; init; }

    /// <summary>The most task runs a rehearsal does before it stops (a workflow that loops forever on its mocks).</summary>
    public const int MaxSteps = 100_000;

    private static readonly JsonSerializerOptions Pretty = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs a spec file.</summary>
    /// <exception cref="WorkflowLoadException">The spec does not read (the workflow's own problems are differences instead).</exception>
    public RehearsalResult Run(string specPath) => Run(RehearsalSpec.Load(specPath));

    /// <summary>Runs a loaded spec.</summary>
    public RehearsalResult Run(RehearsalSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var differences = new List<string>();
        WorkflowGraph graph;
        try
        {
            graph = loader.LoadFile(spec.WorkflowPath);
        }
        catch (WorkflowLoadException ex)
        {
            if (spec.ExpectedInspectionErrors is { Count: > 0 })
            {
                return new RehearsalResult { Spec = spec, Differences = [] };
            }

            differences.Add($"The workflow {spec.Workflow} does not load:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", ex.Errors)}");
            return new RehearsalResult { Spec = spec, Differences = differences };
        }

        if (spec.ExpectedInspectionErrors is { Count: > 0 })
        {
            differences.Add($"expected_inspection_errors: the workflow was expected to fail its checks, but it loads.");
            return new RehearsalResult { Spec = spec, Differences = differences };
        }

        foreach (var mock in spec.MockActionExecutions)
        {
            var task = graph.Task(mock.TaskId);
            if (task is null)
            {
                differences.Add($"mock_action_executions: there is no task '{mock.TaskId}' in {spec.Workflow}.");
            }
            else if (task.With is not null && mock.ItemId is null)
            {
                differences.Add($"mock_action_executions: '{mock.TaskId}' runs with items, so its mock needs item_id.");
            }
        }

        if (differences.Count > 0)
        {
            return new RehearsalResult { Spec = spec, Differences = differences };
        }

        foreach (var mock in spec.MockActionExecutions)
        {
            mock.Used = 0;
        }

        var conductor = WorkflowConductor.Start(graph, expressions, spec.Inputs);
        Observer?.Invoke(conductor.State);
        var steps = 0;
        var accumulated = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        var next = conductor.GetNextTasks();
        while (next.Count > 0)
        {
            foreach (var task in next)
            {
                if (++steps > MaxSteps)
                {
                    differences.Add($"The rehearsal stopped after {MaxSteps:N0} task runs: with these mocks the workflow does not end.");
                    return Finish(spec, conductor, differences);
                }

                try
                {
                    Perform(conductor, spec, task, accumulated);
                    Observer?.Invoke(conductor.State);
                }
                catch (RehearsalException ex)
                {
                    differences.Add(ex.Message);
                    return Finish(spec, conductor, differences);
                }
            }

            next = conductor.GetNextTasks();
        }

        return Finish(spec, conductor, differences);
    }

    private static void Perform(WorkflowConductor conductor, RehearsalSpec spec, NextTask task, Dictionary<string, JsonArray> accumulated)
    {
        if (task.ItemsCount is null)
        {
            conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Running));
            var mock = Take(spec, task.Id, conductor.State.Sequence.Count - 1, null);
            conductor.UpdateTask(task.Id, task.Route, new TaskEvent(mock?.Status ?? WorkflowStatuses.Succeeded, mock?.Result?.DeepClone()));
            return;
        }

        if (task.ItemsCount == 0)
        {
            conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Running));
            conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Succeeded, new JsonArray()));
            return;
        }

        // As orquesta-rehearse: one item per round, taken from the next mock for the task (its item_id says which
        // item), and the task's result is the items' results gathered so far.
        conductor.UpdateTask(task.Id, task.Route, new TaskEvent(WorkflowStatuses.Running));
        var seq = conductor.State.Tasks[WorkflowState.RunKey(task.Id, task.Route)];
        var itemMock = Take(spec, task.Id, seq, null);
        if (!accumulated.TryGetValue(task.Id, out var results))
        {
            accumulated[task.Id] = results = [];
        }

        var item = itemMock?.ItemId ?? results.Count;
        if (item >= task.ItemsCount)
        {
            throw new RehearsalException($"mock_action_executions: item_id {item} of task '{task.Id}' is beyond its {task.ItemsCount} item(s).");
        }

        while (results.Count <= item)
        {
            results.Add(null);
        }

        results[item] = itemMock?.Result?.DeepClone();
        conductor.UpdateTask(task.Id, task.Route, new TaskEvent(
            itemMock?.Status ?? WorkflowStatuses.Succeeded, itemMock?.Result?.DeepClone(), item, results.DeepClone().AsArray()));
    }

    private static MockActionExecution? Take(RehearsalSpec spec, string taskId, int seqId, int? itemId)
    {
        var available = spec.MockActionExecutions.Where(m => m.TaskId == taskId && m.Used < m.NumIter).ToList();
        var mock = available.FirstOrDefault(m => m.SeqId == seqId && (itemId is null || m.ItemId == itemId));
        if (mock is null)
        {
            // As orquesta-rehearse: without a mock for this run, the next unused one answers, unless it is meant for
            // a particular run (seq_id), in which case this run just succeeds.
            mock = itemId is null ? available.FirstOrDefault() : available.FirstOrDefault(m => m.ItemId == itemId);
            mock = mock?.SeqId is null ? mock : null;
        }
        if (mock is not null)
        {
            mock.Used++;
        }

        return mock;
    }

    private static RehearsalResult Finish(RehearsalSpec spec, WorkflowConductor conductor, List<string> differences)
    {
        if (WorkflowStatuses.IsCompleted(conductor.Status))
        {
            conductor.RenderOutput();
        }

        var state = conductor.State;
        var actualSequence = state.Sequence.Select(t => WorkflowState.RunKey(t.Id, t.Route)).ToList();
        var expectedSequence = spec.ExpectedTaskSequence.Select(Qualify).ToList();
        CompareLists("expected_task_sequence", expectedSequence, actualSequence, differences);

        var actualRoutes = state.Routes.Select(r => $"[{string.Join(", ", r)}]").ToList();
        var expectedRoutes = spec.ExpectedRoutes.Select(r => $"[{string.Join(", ", r)}]").ToList();
        CompareLists("expected_routes", expectedRoutes, actualRoutes, differences);

        if (spec.ExpectedTermTasks is { } term)
        {
            var actualTerm = conductor.TerminalTasks.Select(t => WorkflowState.RunKey(t.Id, t.Route)).Order(StringComparer.Ordinal).ToList();
            CompareLists("expected_term_tasks", [.. term.Select(Qualify).Order(StringComparer.Ordinal)], actualTerm, differences);
        }

        if (conductor.Status != spec.ExpectedWorkflowStatus)
        {
            differences.Add($"expected_workflow_status: expected {spec.ExpectedWorkflowStatus}, but the workflow is {conductor.Status ?? "not started"}.");
        }

        var errors = new JsonArray([.. state.Errors.Select(e => (JsonNode)e.ToJson())]);
        if (spec.ExpectedErrors is { } expectedErrors && !JsonNode.DeepEquals(expectedErrors, errors))
        {
            differences.Add($"expected_errors: expected{Environment.NewLine}{Indent(expectedErrors)}{Environment.NewLine}but got{Environment.NewLine}{Indent(errors)}");
        }

        if (spec.ExpectedOutput is { } expectedOutput && !JsonNode.DeepEquals(expectedOutput, state.Output))
        {
            differences.Add($"expected_output: expected{Environment.NewLine}{Indent(expectedOutput)}{Environment.NewLine}but got{Environment.NewLine}{Indent(state.Output)}");
        }

        if (differences.Count > 0 && state.Errors.Count > 0 && spec.ExpectedErrors is null)
        {
            differences.Add($"(the workflow's errors, for reference:{Environment.NewLine}{Indent(errors)})");
        }

        return new RehearsalResult
        {
            Spec = spec,
            Differences = differences,
            TaskSequence = actualSequence,
            WorkflowStatus = conductor.Status,
            Output = state.Output,
            Errors = errors,
        };
    }

    private static string Qualify(string task) => task.Contains("__r", StringComparison.Ordinal) ? task : WorkflowState.RunKey(task, 0);

    private static string Indent(JsonNode? node) =>
        "  " + (node?.ToJsonString(Pretty) ?? "null");

    private static void CompareLists(string what, List<string> expected, List<string> actual, List<string> differences)
    {
        if (expected.SequenceEqual(actual, StringComparer.Ordinal))
        {
            return;
        }

        var at = 0;
        while (at < expected.Count && at < actual.Count && expected[at] == actual[at])
        {
            at++;
        }

        var sb = new StringBuilder();
        sb.Append(what).Append(": differs at position ").Append(at + 1).Append(" (")
            .Append(at < expected.Count ? $"expected {expected[at]}" : "expected nothing more")
            .Append(", ")
            .Append(at < actual.Count ? $"got {actual[at]}" : "got nothing more")
            .AppendLine(")");
        sb.Append("  expected: ").AppendJoin(", ", expected).AppendLine();
        sb.Append("  actual:   ").AppendJoin(", ", actual);
        differences.Add(sb.ToString());
    }
}
