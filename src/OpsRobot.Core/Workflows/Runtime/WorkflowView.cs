using System.Text.Json.Nodes;
using OpsRobot.Core.Workflows.Engine;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>A task of the graph with where it stands: for the console to draw.</summary>
/// <param name="Id">The task (or engine command: continue, fail, noop).</param>
/// <param name="Action">Its action as written, or null.</param>
/// <param name="Join">Whether it is a join.</param>
/// <param name="WithItems">Whether it runs its action once per item.</param>
/// <param name="Status">The status of its latest run (over every route), or null when it has not run.</param>
/// <param name="Runs">How many times it ran (cycles and routes each count).</param>
public sealed record WorkflowTaskView(string Id, string? Action, bool Join, bool WithItems, string? Status, int Runs);

/// <summary>An edge of the graph: a transition from one task to another.</summary>
public sealed record WorkflowEdgeView(string From, string To, string? When, string TransitionId);

/// <summary>One run of a task, in the order runs began.</summary>
public sealed record WorkflowRunView(string Id, int Route, string? Status, bool Term, int? Retries, IReadOnlyDictionary<string, bool> Next);

/// <summary>A workflow execution as a graph with each task's status, its runs, routes, errors and output.</summary>
public sealed record WorkflowView(
    string? Status,
    IReadOnlyList<WorkflowTaskView> Tasks,
    IReadOnlyList<WorkflowEdgeView> Edges,
    IReadOnlyList<WorkflowRunView> Sequence,
    IReadOnlyList<IReadOnlyList<string>> Routes,
    JsonArray Errors,
    JsonObject? Output)
{
    /// <summary>Builds the view of a run from its graph and its state.</summary>
    public static WorkflowView Build(WorkflowGraph graph, WorkflowState state)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(state);
        var edges = graph.Definition.Tasks
            .SelectMany(t => graph.Next(t.Name))
            .Select(e => new WorkflowEdgeView(e.From, e.To, e.When, e.TransitionId))
            .ToList();
        var names = graph.Definition.Tasks.Select(t => t.Name)
            .Concat(edges.Select(e => e.To).Where(WorkflowGraph.IsEngineCommand).Distinct(StringComparer.Ordinal));
        var tasks = names.Select(name =>
        {
            var task = graph.Task(name);
            var runs = state.Sequence.Where(r => r.Id == name).ToList();
            return new WorkflowTaskView(name, task?.Action, task?.Join is not null, task?.With is not null, runs.LastOrDefault()?.Status, runs.Count);
        }).ToList();
        var sequence = state.Sequence
            .Select(r => new WorkflowRunView(r.Id, r.Route, r.Status, r.Term, r.Retry?.Tally, new Dictionary<string, bool>(r.Next, StringComparer.Ordinal)))
            .ToList();
        return new WorkflowView(
            state.Status,
            tasks,
            edges,
            sequence,
            [.. state.Routes.Select(r => (IReadOnlyList<string>)[.. r])],
            new JsonArray([.. state.Errors.Select(e => (JsonNode)e.ToJson())]),
            state.Output?.DeepClone().AsObject());
    }
}
