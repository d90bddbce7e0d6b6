using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace OpsRobot.Core.Workflows.Engine;

// The state is plain data that the engine changes in place and System.Text.Json round-trips: concrete lists and
// dictionaries say exactly what is stored, and no abstraction would be honoured by the serializer anyway.
#pragma warning disable MA0016

/// <summary>
/// Everything the engine knows about one run of a workflow, as plain data: it serializes to JSON, so it can be stored
/// after every transition and the run resumed from it. The engine changes it only through
/// <see cref="WorkflowConductor"/>.
/// </summary>
/// <remarks>
/// The model is Orquesta's, so its rehearsal specs and status semantics carry over: <see cref="Sequence"/> lists every
/// task run in the order runs began (a task in a cycle, or reached on several routes, appears once per run);
/// <see cref="Staged"/> holds tasks that a transition has reached but that have not started (a join waits there
/// until its branches arrive); <see cref="Contexts"/> are the published values, shared by index so a fan-out does not
/// copy them; <see cref="Routes"/> tell apart the runs of a task reached through different splits.
/// </remarks>
public sealed class WorkflowState
{
    /// <summary>The workflow's status (<see cref="WorkflowStatuses"/>), or null before it starts.</summary>
    public string? Status { get; set; }

    /// <summary>The inputs as given.</summary>
    public JsonObject Input { get; set; } = [];

    /// <summary>Context entries: [0] is the inputs and vars; each transition that publishes adds one.</summary>
    public List<JsonObject> Contexts { get; set; } = [];

    /// <summary>The routes: [0] is the main one; each lists the split transitions taken to get there.</summary>
    public List<List<string>> Routes { get; set; } = [];

    /// <summary>Every task run, in the order they began.</summary>
    public List<TaskRun> Sequence { get; set; } = [];

    /// <summary>The latest run of each task on each route: <c>task__rROUTE</c> → index in <see cref="Sequence"/>.</summary>
    public Dictionary<string, int> Tasks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tasks reached by a transition that have not started yet, or with-items tasks still running items.</summary>
    public List<StagedTask> Staged { get; set; } = [];

    /// <summary>Errors, in the order they happened (Orquesta's <c>errors</c>).</summary>
    public List<WorkflowLogEntry> Errors { get; set; } = [];

    /// <summary>The output, once rendered; null before, or when the workflow declares none.</summary>
    public JsonObject? Output { get; set; }

    /// <summary>The key of a task's latest run on a route in <see cref="Tasks"/>.</summary>
    public static string RunKey(string taskId, int route) => $"{taskId}__r{route}";

    /// <summary>What changed since the state was last stored, so a save can store only that (see <see cref="WorkflowJournal"/>).</summary>
    [JsonIgnore]
    internal StateChanges Changes { get; } = new();
}

/// <summary>
/// What the engine changed in a <see cref="WorkflowState"/> since it was last stored. The engine records every change to
/// a task run here; contexts and errors are only ever appended; with-items tasks record their changed items themselves
/// (<see cref="StagedTask.ChangedItems"/>). Anything else the engine changes is small and stored whole at every save.
/// </summary>
internal sealed class StateChanges
{
    /// <summary>
    /// The state must be stored whole: it was never stored by this process, or it changed in a way not tracked (a re-run,
    /// a save that failed).
    /// </summary>
    public bool Whole { get; set; } = true;

    /// <summary>Indexes in <see cref="WorkflowState.Sequence"/> of the runs added or changed.</summary>
    public HashSet<int> Runs { get; } = [];

    /// <summary>How many contexts the stored state has (the ones after it are new).</summary>
    public int ContextsStored { get; set; }

    /// <summary>How many errors the stored state has (errors are only appended, except by a re-run).</summary>
    public int ErrorsStored { get; set; }
}

/// <summary>One run of a task.</summary>
public sealed class TaskRun
{
    public required string Id { get; set; }

    public int Route { get; set; }

    /// <summary>The context entries the task started with (merged in order).</summary>
    public List<int> In { get; set; } = [];

    /// <summary>The context entry each published transition added, by transition id.</summary>
    public Dictionary<string, int>? Out { get; set; }

    /// <summary>The runs that led here: back-reference (<c>task__tKEY</c>) → index in the sequence.</summary>
    public Dictionary<string, int> Prev { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Each outbound transition (<c>next__tKEY</c>) and whether its condition held.</summary>
    public Dictionary<string, bool> Next { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The task's status (<see cref="WorkflowStatuses"/>), or null before its first event.</summary>
    public string? Status { get; set; }

    /// <summary>Whether the workflow ended at this task (it has no transitions, or the workflow completed with it).</summary>
    public bool Term { get; set; }

    /// <summary>The retry policy, evaluated, with how many retries were used.</summary>
    public RetryState? Retry { get; set; }

    /// <summary>The result, once completed (a list of the items' results for a with-items task).</summary>
    public JsonNode? Result { get; set; }
}

/// <summary>A task reached by a transition, waiting to start (or, with items, still running them).</summary>
public sealed class StagedTask
{
    public required string Id { get; set; }

    public int Route { get; set; }

    public List<int> In { get; set; } = [];

    public Dictionary<string, int> Prev { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Ready to start: for a join, when enough branches have arrived.</summary>
    public bool Ready { get; set; }

    /// <summary>A with-items task that ended badly stays staged, marked completed, so it can be re-run.</summary>
    public bool Completed { get; set; }

    /// <summary>Set when the task retries: the policy and the delay before the next try.</summary>
    public RetryState? Retry { get; set; }

    /// <summary>With items: each item's status (null: not started).</summary>
    public List<string?>? Items { get; set; }

    /// <summary>With items: each item's result so far.</summary>
    public List<JsonNode?>? ItemResults { get; set; }

    /// <summary>
    /// With items: how many items are in each status ("" for not started), kept beside <see cref="Items"/> so that
    /// an item's event does not scan the other ten thousand. Rebuilt from <see cref="Items"/> after a restore.
    /// </summary>
    [JsonIgnore]
    internal Dictionary<string, int>? ItemCounts { get; set; }

    /// <summary>
    /// With items: the items as evaluated when the task first started. The task's context does not change while its
    /// items run, so they are evaluated once rather than at every step (evaluated again after a restore).
    /// </summary>
    [JsonIgnore]
    internal JsonArray? EvaluatedItems { get; set; }

    /// <summary>With items: the task's context, merged when it first started (merged again after a restore).</summary>
    [JsonIgnore]
    internal JsonObject? EvaluatedContext { get; set; }

    /// <summary>With items: no item before this index is still to start (a cursor, rebuilt after a restore).</summary>
    [JsonIgnore]
    internal int FirstUnstarted { get; set; }

    /// <summary>
    /// With items: true when <see cref="Items"/> and <see cref="ItemResults"/> are the lists last stored, changed only
    /// at <see cref="ChangedItems"/>; false when they are new (or replaced) and must be stored whole.
    /// </summary>
    [JsonIgnore]
    internal bool ItemsStored { get; set; }

    /// <summary>With items: the items whose status or result changed since the lists were last stored.</summary>
    [JsonIgnore]
    internal HashSet<int> ChangedItems { get; } = [];

    /// <summary>Runs even though the workflow failed: a clean-up reached by the same transition as a <c>fail</c>.</summary>
    public bool RunOnFail { get; set; }
}

/// <summary>A retry policy as evaluated when the task started, and how many retries were used.</summary>
public sealed class RetryState
{
    public string? When { get; set; }

    public int Count { get; set; }

    public int Delay { get; set; }

    public int Tally { get; set; }
}

/// <summary>An error of the workflow (Orquesta's error entries: <c>type</c>, <c>message</c>, <c>task_id</c>, …).</summary>
public sealed class WorkflowLogEntry
{
    [JsonPropertyName("type")]
    public string Type { get; set; } = "error";

    [JsonPropertyName("message")]
    public string Message { get; set; } = string.Empty;

    [JsonPropertyName("task_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TaskId { get; set; }

    [JsonPropertyName("route")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Route { get; set; }

    [JsonPropertyName("task_transition_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TaskTransitionId { get; set; }

    [JsonPropertyName("result")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? Result { get; set; }

    /// <summary>The entry as Orquesta writes it (keys with null values left out), for comparing with a rehearsal spec.</summary>
    public JsonObject ToJson()
    {
        var obj = new JsonObject { ["type"] = Type, ["message"] = Message };
        if (TaskId is not null)
        {
            obj["task_id"] = TaskId;
        }

        if (Route is not null)
        {
            obj["route"] = Route;
        }

        if (TaskTransitionId is not null)
        {
            obj["task_transition_id"] = TaskTransitionId;
        }

        if (Result is not null)
        {
            obj["result"] = Result.DeepClone();
        }

        return obj;
    }
}
