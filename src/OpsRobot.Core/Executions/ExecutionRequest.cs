using System.Text.Json.Nodes;

namespace OpsRobot.Core.Executions;

/// <summary>A request to run an action, from any door.</summary>
/// <param name="ActionRef">The action's <c>pack.name</c>.</param>
/// <param name="Parameters">Parameters: strings from text doors, typed JSON from the API; checked against the action's schema.</param>
/// <param name="Requester">Who asks, through which door, where to report.</param>
public sealed record ExecutionRequest(string ActionRef, JsonObject? Parameters, ExecutionRequester Requester)
{
    public long? ParentId { get; init; }

    /// <summary>
    /// Secret values the requester knows may be in <see cref="Parameters"/>: the datastore secrets a rule's templates
    /// could read, a workflow's own secrets. The execution masks each wherever it shows up (its stored parameters,
    /// output, result and error), as it masks the values of the action's own secret parameters; they are never stored.
    /// </summary>
    public IReadOnlyCollection<string> SecretValues { get; init; } = [];

    /// <summary>
    /// Runs once the execution is stored and before it can start, with its record: a workflow re-run stores the
    /// state it carries on from under the new execution's id here. When it throws, the execution fails with the reason.
    /// </summary>
    public Func<ExecutionRecord, CancellationToken, Task>? BeforeStart { get; init; }
}

/// <summary>An accepted execution: its record as stored, and the outcome once it (and any retry) has finished.</summary>
public sealed record ExecutionHandle(ExecutionRecord Execution, Task<ExecutionRecord> Outcome);

/// <summary>
/// What recovery after a crash did: executions marked abandoned (they had started, or could not be started again),
/// and queued executions that never started and run now.
/// </summary>
public sealed record ExecutionRecovery(IReadOnlyList<ExecutionRecord> Abandoned, IReadOnlyList<ExecutionHandle> Resumed);

/// <summary>A request refused before anything ran: unknown or disabled action, bad parameters. The message is for people.</summary>
public sealed class ExecutionRequestException : Exception
{
    public ExecutionRequestException()
    {
    }

    public ExecutionRequestException(string message)
        : base(message)
    {
    }

    public ExecutionRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
