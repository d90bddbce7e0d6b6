using System.Text.Json.Nodes;

namespace OpsRobot.Core.Executions;

/// <summary>The executions' durable records and their output.</summary>
public interface IExecutionStore
{
    /// <summary>Stores a new execution (status <see cref="ExecutionStatus.Requested"/>) and returns it with its id.</summary>
    Task<ExecutionRecord> CreateAsync(ExecutionRecord execution, CancellationToken cancellationToken);

    Task<ExecutionRecord?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// The executions among <paramref name="ids"/> that exist, in no particular order, read together: a page that
    /// needs the executions of its rows reads them at once instead of one by one.
    /// </summary>
    Task<IReadOnlyList<ExecutionRecord>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<ExecutionRecord>> ListAsync(ExecutionQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Moves an execution to <paramref name="status"/> only if it is in one of <paramref name="from"/>; returns
    /// false when it was not (someone else moved it first). This is what keeps two nodes, or a cancel racing a
    /// finish, from both winning.
    /// </summary>
    Task<bool> TransitionAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="TransitionAsync"/> that also returns the record as the transition left it, or null when the
    /// execution was not in one of <paramref name="from"/> (or does not exist): the record to announce, without
    /// reading it again (a second read could also see a later change than this one).
    /// </summary>
    Task<ExecutionRecord?> TransitionAndReadAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken);

    /// <summary>
    /// Hands an execution over from <paramref name="fromOwner"/> (a process that is gone) to <paramref name="toOwner"/>,
    /// only while it is still in one of <paramref name="from"/> and still owned by <paramref name="fromOwner"/>;
    /// returns false when another process claimed it, or it moved on, first.
    /// </summary>
    Task<bool> ClaimAsync(long id, string fromOwner, string toOwner, IReadOnlyCollection<ExecutionStatus> from, CancellationToken cancellationToken);

    /// <summary>Appends output chunks in one transaction.</summary>
    Task AppendOutputAsync(IReadOnlyList<OutputChunk> chunks, CancellationToken cancellationToken);

    /// <summary>Output chunks after <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<OutputChunk>> ReadOutputAsync(long executionId, long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>Every execution not finished, oldest first (to abandon after a restart).</summary>
    Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);
}

/// <summary>The fields a transition may set; null leaves a field as it is.</summary>
public sealed record ExecutionUpdate
{
    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public JsonNode? Result { get; init; }

    public int? ExitCode { get; init; }

    public string? Error { get; init; }
}
