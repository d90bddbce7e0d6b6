namespace OpsRobot.Core.Workflows.Runtime;

// Stored as JSON and changed in place by the driver; a concrete list says what is stored.
#pragma warning disable MA0016

/// <summary>
/// One action a workflow started (or is about to start) for a task: which task, route and item, and the child
/// execution once it exists. Written before the child is requested, so a restart knows what was in flight.
/// </summary>
public sealed class WorkflowDispatch
{
    /// <summary>Numbers the dispatches of one run, in order; never reused.</summary>
    public long Key { get; set; }

    public required string TaskId { get; set; }

    public int Route { get; set; }

    public int? ItemId { get; set; }

    /// <summary>The action to run (null for a task that only routes).</summary>
    public string? Action { get; set; }

    /// <summary>The evaluated input, kept so the action can be requested again after a restart.</summary>
    public System.Text.Json.Nodes.JsonObject Input { get; set; } = [];

    /// <summary>Seconds to wait before the action starts.</summary>
    public int Delay { get; set; }

    /// <summary>The child execution, once requested.</summary>
    public long? ChildId { get; set; }
}

/// <summary>The actions in flight of one run, with the counters that keep dispatches and children apart.</summary>
public sealed class WorkflowDispatchLog
{
    /// <summary>The last dispatch key given; keys are never reused.</summary>
    public long LastKey { get; set; }

    /// <summary>
    /// The newest child execution known when the log was stored: a child requested after it and not recorded yet
    /// (a crash came in between) has a greater id.
    /// </summary>
    public long LastChildId { get; set; }

    public List<WorkflowDispatch> InFlight { get; set; } = [];
}

/// <summary>The stored form of one workflow run: the engine's state and the actions in flight.</summary>
public sealed class WorkflowRunRecord
{
    /// <summary>The workflow's own execution.</summary>
    public required long ExecutionId { get; init; }

    public required string ActionRef { get; init; }

    /// <summary>The workflow file (absolute path) the run follows.</summary>
    public required string WorkflowFile { get; init; }

    /// <summary>Bumped by each save; a save that expects an older version is refused (another writer won).</summary>
    public long Version { get; init; }

    /// <summary>
    /// The engine's <see cref="Engine.WorkflowState"/> as JSON, as it was at the last whole save; <see cref="Steps"/>
    /// bring it up to date (<see cref="Engine.WorkflowJournal"/>).
    /// </summary>
    public required string State { get; init; }

    /// <summary>The steps stored since <see cref="State"/>, oldest first (read only; a save of the whole state clears them).</summary>
    public IReadOnlyList<WorkflowStoredStep> Steps { get; init; } = [];

    /// <summary>
    /// The version <see cref="State"/> was stored as (read only): the steps follow it one by one, so
    /// <see cref="Version"/> is this one when there are none.
    /// </summary>
    public long BaseVersion { get; init; }

    /// <summary>The actions in flight (<see cref="WorkflowDispatchLog"/>) as JSON, as stored with version <see cref="Version"/>.</summary>
    public required string Dispatches { get; init; }

    /// <summary>Whether the workflow has completed (nothing more will be saved).</summary>
    public bool Finished { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A step of a run's state (<see cref="Engine.WorkflowJournal"/>): what changed at version <paramref name="Version"/>.</summary>
public sealed record WorkflowStoredStep(long Version, string Text);

/// <summary>Where workflow runs are kept, so that each transition is stored before it takes effect.</summary>
public interface IWorkflowStore
{
    Task<WorkflowRunRecord?> GetAsync(long executionId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the run as version <c>expectedVersion + 1</c>: inserts it when <paramref name="expectedVersion"/> is 0,
    /// else updates it only if it is still at <paramref name="expectedVersion"/>. Returns false when it was not.
    /// </summary>
    /// <remarks>The run's state is stored whole: the steps stored before are removed with the same write.</remarks>
    Task<bool> SaveAsync(WorkflowRunRecord run, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a step of the run's state as version <c>expectedVersion + 1</c>, with its actions in flight, only if the
    /// run is still at <paramref name="expectedVersion"/> and has not finished. Returns false when it was not. A run
    /// finishes with a save of its whole state.
    /// </summary>
    Task<bool> AppendStepAsync(long executionId, long expectedVersion, string stepText, string dispatches, CancellationToken cancellationToken);

    /// <summary>Runs not finished, oldest first.</summary>
    Task<IReadOnlyList<WorkflowRunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);
}
