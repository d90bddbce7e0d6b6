using System.Text.Json.Nodes;

namespace OpsRobot.Core.Events;

/// <summary>Where an event stands: stored and waiting for the rules, or done with.</summary>
public enum EventStatus
{
    /// <summary>Stored; the rules have not (all) been applied to it yet. Survives a crash: it is evaluated after restart.</summary>
    Pending,

    /// <summary>Every rule was applied to it, and each that matched left an enforcement.</summary>
    Processed,
}

/// <summary>One event (StackStorm's trigger instance): a trigger type, its payload, where it came from. Stored before anything acts on it.</summary>
public sealed record EventRecord
{
    public required long Id { get; init; }

    /// <summary>The trigger type's canonical name (<c>core.webhook</c>, <c>mypack.disk_alert</c>).</summary>
    public required string TriggerType { get; init; }

    public required JsonObject Payload { get; init; }

    /// <summary>What produced it, for people: <c>webhook:alerts</c>, <c>timer:ops.nightly</c>, <c>chat:web/ops</c>.</summary>
    public required string Source { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    public EventStatus Status { get; init; } = EventStatus.Pending;

    public DateTimeOffset? ProcessedAt { get; init; }

    /// <summary>
    /// Why the stored payload could not be read, when it could not (a database edited by hand, or damaged): the event
    /// is shown with an empty payload, and the rules do not evaluate it.
    /// </summary>
    public string? Damage { get; init; }
}

/// <summary>How an enforcement ended.</summary>
public enum EnforcementStatus
{
    /// <summary>Recorded, and the action is being requested. Left so only by a crash at that instant.</summary>
    Starting,

    /// <summary>The action's execution was accepted; <see cref="EnforcementRecord.ExecutionId"/> is set.</summary>
    Started,

    /// <summary>No execution was started; <see cref="EnforcementRecord.Error"/> says why.</summary>
    Failed,
}

/// <summary>
/// One firing of a rule for one event: the parameters it rendered (secrets masked), the execution it started or the
/// reason it could not. At most one per (rule, event), which is what keeps a re-evaluated event from firing twice.
/// </summary>
public sealed record EnforcementRecord
{
    public required long Id { get; init; }

    public required string RuleRef { get; init; }

    public required long EventId { get; init; }

    public required string TriggerType { get; init; }

    public required string ActionRef { get; init; }

    public required EnforcementStatus Status { get; init; }

    /// <summary>The rendered action parameters, secrets masked; null when they did not render.</summary>
    public JsonObject? Parameters { get; init; }

    public long? ExecutionId { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>Filters and paging for listing events, newest first.</summary>
public sealed record EventQuery
{
    public string? TriggerType { get; init; }

    public EventStatus? Status { get; init; }

    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

/// <summary>Filters and paging for listing enforcements, newest first.</summary>
public sealed record EnforcementQuery
{
    public string? RuleRef { get; init; }

    public long? EventId { get; init; }

    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

/// <summary>The events (trigger instances) and the rules' enforcements.</summary>
public interface IEventStore
{
    /// <summary>Stores a new event as <see cref="EventStatus.Pending"/> and returns it with its id. Durable when it returns.</summary>
    Task<EventRecord> AppendAsync(EventRecord record, CancellationToken cancellationToken);

    Task<EventRecord?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<EventRecord>> ListAsync(EventQuery query, CancellationToken cancellationToken);

    /// <summary>Pending events with an id above <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<EventRecord>> ListPendingAsync(long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Marks an event processed; false when it was not pending.</summary>
    Task<bool> MarkProcessedAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Marks events processed, all in one transaction; returns how many were pending.</summary>
    Task<int> MarkProcessedAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a rule fires for an event (status <see cref="EnforcementStatus.Starting"/>), unless that rule
    /// already has an enforcement for that event: then returns null and records nothing.
    /// </summary>
    Task<EnforcementRecord?> TryBeginEnforcementAsync(EnforcementRecord enforcement, CancellationToken cancellationToken);

    /// <summary>Records how an enforcement ended; <paramref name="reason"/> is the error when it failed.</summary>
    Task CompleteEnforcementAsync(long id, EnforcementStatus status, long? executionId, string? reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Removes an enforcement still <see cref="EnforcementStatus.Starting"/>: for when it is certain that nothing was
    /// started (OpsRobot is stopping), so the event, left pending, fires the rule at the next start.
    /// </summary>
    Task DeleteStartingEnforcementAsync(long id, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<EnforcementRecord>> ListEnforcementsAsync(EnforcementQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// After a crash: every enforcement left <see cref="EnforcementStatus.Starting"/> becomes
    /// <see cref="EnforcementStatus.Failed"/> with <paramref name="reason"/>. Returns how many.
    /// </summary>
    Task<int> FailStartingEnforcementsAsync(string reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes processed events (and their enforcements) received before <paramref name="before"/>; returns how many events.</summary>
    Task<int> PurgeProcessedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}

/// <summary>An event refused before it was stored (wrong payload shape, unknown trigger). The message is for the sender.</summary>
public sealed class EventRejectedException : Exception
{
    public EventRejectedException()
    {
    }

    public EventRejectedException(string message)
        : base(message)
    {
    }

    public EventRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
