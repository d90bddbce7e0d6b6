using System.Collections.Frozen;

namespace OpsRobot.Core.Workflows;

/// <summary>
/// One edge of the task graph: from a task, through one of its transitions, to a task or an engine command.
/// <see cref="Key"/> numbers the edges between the same two tasks (0, 1, …) in the order of the transitions, which is
/// how Orquesta names them: <see cref="TransitionId"/> is <c>next__tKEY</c>, <see cref="BackRef"/> is <c>from__tKEY</c>.
/// </summary>
public sealed record GraphEdge(string From, string To, int Key, string? When, int TransitionIndex)
{
    public string TransitionId { get; } = $"{To}__t{Key}";

    public string BackRef { get; } = $"{From}__t{Key}";
}

/// <summary>
/// A loaded workflow as a graph: tasks, the edges of their transitions, joins (barriers), splits (tasks reached by
/// several transitions, which run once per route), cycles and retry policies. Immutable; built once per
/// workflow file and shared by every execution of it.
/// </summary>
public sealed class WorkflowGraph
{
    /// <summary>The names <c>do</c> may use besides tasks.</summary>
    public static IReadOnlySet<string> EngineCommands { get; } = new HashSet<string>(StringComparer.Ordinal) { "continue", "fail", "noop", "retry" };

    private static readonly IReadOnlyList<GraphEdge> NoEdges = [];

    private readonly FrozenDictionary<string, TaskDefinition> _tasks;
    private readonly FrozenDictionary<string, IReadOnlyList<GraphEdge>> _next;
    private readonly FrozenDictionary<string, IReadOnlyList<GraphEdge>> _prev;
    private readonly FrozenDictionary<string, int> _prevEntries;
    private readonly FrozenSet<string> _inCycle;
    private readonly FrozenDictionary<string, RetryDefinition> _retry;

    internal WorkflowGraph(WorkflowDefinition definition)
    {
        Definition = definition;
        _tasks = definition.Tasks.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

        var next = new Dictionary<string, List<GraphEdge>>(StringComparer.Ordinal);
        var prev = new Dictionary<string, List<GraphEdge>>(StringComparer.Ordinal);
        var prevEntries = new Dictionary<string, int>(StringComparer.Ordinal);
        var retry = new Dictionary<string, RetryDefinition>(StringComparer.Ordinal);
        foreach (var task in definition.Tasks)
        {
            if (task.Retry is not null)
            {
                retry[task.Name] = task.Retry;
            }

            var entries = new List<(string To, string? When, int Index)>();
            foreach (var transition in task.Next)
            {
                foreach (var to in transition.Do)
                {
                    prevEntries[to] = prevEntries.GetValueOrDefault(to) + 1;
                    if (to == "retry")
                    {
                        // Orquesta's `do: retry`: retry the task up to three times while the condition holds.
                        retry[task.Name] = new RetryDefinition(transition.When ?? "<% completed() %>", System.Text.Json.Nodes.JsonValue.Create(3), null, transition.Position);
                        continue;
                    }

                    entries.Add((to, transition.When, transition.Index));
                }
            }

            // Edges are ordered by target name (stable within one target), as Orquesta orders them; that order
            // decides the order of staging and so of the task sequence.
            var keys = new Dictionary<string, int>(StringComparer.Ordinal);
            var edges = new List<GraphEdge>();
            foreach (var (to, when, index) in entries.OrderBy(e => e.To, StringComparer.Ordinal))
            {
                var key = keys.GetValueOrDefault(to);
                keys[to] = key + 1;
                var edge = new GraphEdge(task.Name, to, key, when, index);
                edges.Add(edge);
                if (!prev.TryGetValue(to, out var list))
                {
                    prev[to] = list = [];
                }

                list.Add(edge);
            }

            next[task.Name] = edges;
        }

        _next = next.ToFrozenDictionary(kv => kv.Key, kv => (IReadOnlyList<GraphEdge>)kv.Value, StringComparer.Ordinal);
        _prev = prev.ToFrozenDictionary(
            kv => kv.Key,
            kv => (IReadOnlyList<GraphEdge>)[.. kv.Value.OrderBy(e => e.From, StringComparer.Ordinal)],
            StringComparer.Ordinal);
        _prevEntries = prevEntries.ToFrozenDictionary(StringComparer.Ordinal);
        _retry = retry.ToFrozenDictionary(StringComparer.Ordinal);
        Roots = [.. definition.Tasks.Where(t => !prevEntries.ContainsKey(t.Name)).Select(t => t.Name).Order(StringComparer.Ordinal)];
        _inCycle = FindTasksInCycles();
    }

    public WorkflowDefinition Definition { get; }

    /// <summary>The tasks that start the workflow (no transition leads to them), in name order.</summary>
    public IReadOnlyList<string> Roots { get; }

    public static bool IsEngineCommand(string name) => EngineCommands.Contains(name);

    /// <summary>The task of that name, or null (an engine command or an unknown name).</summary>
    public TaskDefinition? Task(string name) => _tasks.GetValueOrDefault(name);

    public bool HasTask(string name) => _tasks.ContainsKey(name) || IsEngineCommand(name);

    /// <summary>The edges out of a task, ordered by target name.</summary>
    public IReadOnlyList<GraphEdge> Next(string task) => _next.GetValueOrDefault(task) ?? NoEdges;

    /// <summary>The edges into a task, ordered by source name.</summary>
    public IReadOnlyList<GraphEdge> Prev(string task) => _prev.GetValueOrDefault(task) ?? NoEdges;

    public bool IsJoin(string task) => Task(task)?.Join is not null;

    /// <summary>How many inbound tasks a join waits for (all of them, or its count); null when it is no join.</summary>
    public int? JoinRequirement(string task) => Task(task)?.Join is not { } join
        ? null
        : join.Count ?? Prev(task).Select(e => e.From).Distinct(StringComparer.Ordinal).Count();

    /// <summary>A task that is no join and that several transitions lead to: it runs once per route that reaches it.</summary>
    public bool IsSplit(string task) => !IsJoin(task) && _prevEntries.GetValueOrDefault(task) > 1;

    /// <summary>Whether the task can lead back to itself.</summary>
    public bool InCycle(string task) => _inCycle.Contains(task);

    /// <summary>The task's retry policy (its own <c>retry</c>, or the one a <c>do: retry</c> gives it), or null.</summary>
    public RetryDefinition? Retry(string task) => _retry.GetValueOrDefault(task);

    private FrozenSet<string> FindTasksInCycles()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in Definition.Tasks)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var queue = new Queue<string>(Next(task.Name).Select(e => e.To));
            while (queue.Count > 0)
            {
                var name = queue.Dequeue();
                if (name == task.Name)
                {
                    result.Add(task.Name);
                    break;
                }

                if (seen.Add(name))
                {
                    foreach (var edge in Next(name))
                    {
                        queue.Enqueue(edge.To);
                    }
                }
            }
        }

        return result.ToFrozenSet(StringComparer.Ordinal);
    }
}
