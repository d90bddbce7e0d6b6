using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace OpsRobot.Core.Workflows.Engine;

// The step is plain data that System.Text.Json round-trips, like the state it patches.
#pragma warning disable MA0016

/// <summary>
/// Stores a workflow's state as a whole snapshot followed by steps: each step holds only what changed since the save
/// before it (the task runs added or changed, the new contexts and errors, the items of a with-items task that moved,
/// and the small parts of the state whole). A run of a thousand tasks, or of ten thousand items, then costs the same to save
/// at its end as at its start, where storing the whole state at every transition grows with the run.
/// </summary>
/// <remarks>
/// The engine records what it changes in <see cref="WorkflowState.Changes"/>. <see cref="TakeStep"/> turns that into a
/// step without changing anything; once the step (or a snapshot) is stored, <see cref="Stored"/> starts the next
/// one. <see cref="Replay"/> rebuilds the state from a snapshot and its steps, in order.
/// </remarks>
public static class WorkflowJournal
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>
    /// The changes since the state was last stored, as a step; null when the state must be stored whole (it was
    /// never stored by this process, or changed in a way the engine does not track).
    /// </summary>
    public static string? TakeStep(WorkflowState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var changes = state.Changes;
        if (changes.Whole || changes.ContextsStored > state.Contexts.Count || changes.ErrorsStored > state.Errors.Count)
        {
            return null;
        }

        // Staged entries are told apart by task and route (the engine never stages one twice); should two ever share
        // them, the state is stored whole.
        if (state.Staged.Select(s => WorkflowState.RunKey(s.Id, s.Route)).Distinct(StringComparer.Ordinal).Count() != state.Staged.Count)
        {
            return null;
        }

        var step = new WorkflowStep
        {
            Status = state.Status,
            Routes = state.Routes,
            Output = state.Output,
            ContextsFrom = changes.ContextsStored,
            Contexts = state.Contexts.GetRange(changes.ContextsStored, state.Contexts.Count - changes.ContextsStored),
            ErrorsFrom = changes.ErrorsStored,
            Errors = state.Errors.GetRange(changes.ErrorsStored, state.Errors.Count - changes.ErrorsStored),
        };

        var runs = new List<int>(changes.Runs);
        runs.Sort();
        foreach (var i in runs)
        {
            if (i < 0 || i >= state.Sequence.Count)
            {
                return null;
            }

            step.Runs.Add(new StepRun { Index = i, Run = state.Sequence[i] });
        }

        foreach (var staged in state.Staged)
        {
            if (!CanCarry(staged))
            {
                step.Staged.Add(staged);
                continue;
            }

            // The lists stay as stored; only the items that moved go into the step.
            step.Staged.Add(WithoutItems(staged));
            var moved = new StepItems { Id = staged.Id, Route = staged.Route };
            foreach (var item in staged.ChangedItems.Order())
            {
                moved.Changed.Add(new StepItem { Index = item, Status = staged.Items![item], Result = staged.ItemResults![item] });
            }

            step.Items.Add(moved);
        }

        return JsonSerializer.Serialize(step, Json);
    }

    /// <summary>The state was stored (whole, or as the step last taken): what changes from here on is the next step.</summary>
    public static void Stored(WorkflowState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var changes = state.Changes;
        changes.Whole = false;
        changes.Runs.Clear();
        changes.ContextsStored = state.Contexts.Count;
        changes.ErrorsStored = state.Errors.Count;
        foreach (var staged in state.Staged)
        {
            staged.ItemsStored = staged.Items is not null && staged.ItemResults is not null && staged.Items.Count == staged.ItemResults.Count;
            staged.ChangedItems.Clear();
        }
    }

    /// <summary>A save failed, so what was stored is not known for sure: the next save stores the state whole.</summary>
    public static void Unsure(WorkflowState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Changes.Whole = true;
    }

    /// <summary>The state stored as <paramref name="snapshot"/> and then <paramref name="steps"/>, in order.</summary>
    /// <exception cref="JsonException">The snapshot or a step is not what <see cref="TakeStep"/> writes.</exception>
    public static WorkflowState Replay(string snapshot, IEnumerable<string> steps)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(steps);
        var state = JsonSerializer.Deserialize<WorkflowState>(snapshot, Json) ?? throw new JsonException("The stored workflow state is empty.");
        foreach (var text in steps)
        {
            var step = JsonSerializer.Deserialize<WorkflowStep>(text, Json) ?? throw new JsonException("A stored workflow step is empty.");
            Apply(state, step);
        }

        return state;
    }

    private static void Apply(WorkflowState state, WorkflowStep step)
    {
        if (step.ContextsFrom != state.Contexts.Count)
        {
            throw new JsonException($"A stored workflow step starts at context {step.ContextsFrom} where the state has {state.Contexts.Count}: a step is missing.");
        }

        if (step.ErrorsFrom != state.Errors.Count)
        {
            throw new JsonException($"A stored workflow step starts at error {step.ErrorsFrom} where the state has {state.Errors.Count}: a step is missing.");
        }

        state.Contexts.AddRange(step.Contexts);
        state.Errors.AddRange(step.Errors);
        foreach (var (index, run) in step.Runs.Select(r => (r.Index, r.Run)))
        {
            if (index < state.Sequence.Count)
            {
                state.Sequence[index] = run;
            }
            else if (index == state.Sequence.Count)
            {
                // A run added: it is its task's latest on its route, as when the engine added it.
                state.Sequence.Add(run);
                state.Tasks[WorkflowState.RunKey(run.Id, run.Route)] = index;
            }
            else
            {
                throw new JsonException($"A stored workflow step adds task run {index} where the state has {state.Sequence.Count}: a step is missing.");
            }
        }

        var lists = state.Staged
            .Where(s => s.Items is not null)
            .GroupBy(s => WorkflowState.RunKey(s.Id, s.Route), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        state.Status = step.Status;
        state.Routes = step.Routes;
        state.Output = step.Output;
        state.Staged = step.Staged;
        foreach (var moved in step.Items)
        {
            var key = WorkflowState.RunKey(moved.Id, moved.Route);
            var staged = step.Staged.FirstOrDefault(s => s.Id == moved.Id && s.Route == moved.Route);
            if (staged is null || !lists.TryGetValue(key, out var before) || before.ItemResults is null)
            {
                throw new JsonException($"A stored workflow step changes the items of task '{moved.Id}' (route {moved.Route}), which the state does not have.");
            }

            staged.Items = before.Items;
            staged.ItemResults = before.ItemResults;
            foreach (var item in moved.Changed)
            {
                if (item.Index < 0 || item.Index >= staged.Items!.Count)
                {
                    throw new JsonException($"A stored workflow step changes item {item.Index} of task '{moved.Id}', which has {staged.Items!.Count}.");
                }

                staged.Items[item.Index] = item.Status;
                staged.ItemResults[item.Index] = item.Result;
            }
        }
    }

    private static bool CanCarry(StagedTask staged) =>
        staged.ItemsStored && staged.Items is not null && staged.ItemResults is not null && staged.Items.Count == staged.ItemResults.Count;

    private static StagedTask WithoutItems(StagedTask staged) => new()
    {
        Id = staged.Id,
        Route = staged.Route,
        In = staged.In,
        Prev = staged.Prev,
        Ready = staged.Ready,
        Completed = staged.Completed,
        Retry = staged.Retry,
        RunOnFail = staged.RunOnFail,
    };

    /// <summary>One stored step: the small parts of the state whole, the rest as changes.</summary>
    private sealed class WorkflowStep
    {
        [JsonPropertyName("status")]
        public string? Status { get; set; }

        [JsonPropertyName("routes")]
        public List<List<string>> Routes { get; set; } = [];

        [JsonPropertyName("staged")]
        public List<StagedTask> Staged { get; set; } = [];

        /// <summary>How many errors the state had before this step: the step's own come after them.</summary>
        [JsonPropertyName("errors_from")]
        public int ErrorsFrom { get; set; }

        [JsonPropertyName("errors")]
        public List<WorkflowLogEntry> Errors { get; set; } = [];

        [JsonPropertyName("output")]
        public JsonObject? Output { get; set; }

        /// <summary>How many contexts the state had before this step: the step's own come after them.</summary>
        [JsonPropertyName("contexts_from")]
        public int ContextsFrom { get; set; }

        [JsonPropertyName("contexts")]
        public List<JsonObject> Contexts { get; set; } = [];

        [JsonPropertyName("runs")]
        public List<StepRun> Runs { get; set; } = [];

        /// <summary>The with-items tasks staged whose lists are as stored before, with the items that moved.</summary>
        [JsonPropertyName("items")]
        public List<StepItems> Items { get; set; } = [];
    }

    private sealed class StepRun
    {
        [JsonPropertyName("i")]
        public int Index { get; set; }

        [JsonPropertyName("run")]
        public required TaskRun Run { get; set; }
    }

    private sealed class StepItems
    {
        [JsonPropertyName("id")]
        public required string Id { get; set; }

        [JsonPropertyName("route")]
        public int Route { get; set; }

        [JsonPropertyName("changed")]
        public List<StepItem> Changed { get; set; } = [];
    }

    private sealed class StepItem
    {
        [JsonPropertyName("i")]
        public int Index { get; set; }

        [JsonPropertyName("status")]
        public string? Status { get; set; }

        [JsonPropertyName("result")]
        public JsonNode? Result { get; set; }
    }
}
