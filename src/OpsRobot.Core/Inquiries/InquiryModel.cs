using System.Text.Json.Nodes;

namespace OpsRobot.Core.Inquiries;

/// <summary>Where an inquiry stands (the words the API and the CLI show).</summary>
public static class InquiryStatuses
{
    /// <summary>Waiting for an answer; its ask execution is <c>pending</c>.</summary>
    public const string Pending = "pending";

    /// <summary>Answered (approved, or values given): the ask task succeeds with the response as its result.</summary>
    public const string Responded = "responded";

    /// <summary>Denied: the ask task fails, and the workflow follows the task's transitions on failure.</summary>
    public const string Denied = "denied";

    /// <summary>Nobody answered within its time-to-live: the ask task fails.</summary>
    public const string Expired = "expired";

    /// <summary>Its workflow was canceled (or its ask execution was) before anyone answered.</summary>
    public const string Canceled = "canceled";

    /// <summary>Every status, for checking a filter.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Responded, Denied, Expired, Canceled];
}

/// <summary>
/// A question an <c>ask</c> task put to people (StackStorm's inquiry): its schema, who may answer, where it was
/// posted, until when, and the answer once given. Stored, so it outlives a restart of OpsRobot.
/// </summary>
public sealed record InquiryRecord
{
    /// <summary>The number people type: <c>!approve 12</c>.</summary>
    public long Id { get; init; }

    /// <summary>The ask execution waiting on it (a newer one after a restart, which adopts the inquiry).</summary>
    public required long ExecutionId { get; init; }

    /// <summary>The workflow execution the ask is a task of, when it is one.</summary>
    public long? ParentId { get; init; }

    /// <summary>Fingerprint of the ask's parameters, so the ask started again after a restart finds its inquiry.</summary>
    public required string ParametersHash { get; init; }

    /// <summary>What is asked, for people.</summary>
    public string? Question { get; init; }

    /// <summary>The schema the response must match (an approve/deny schema when the ask gave none).</summary>
    public required InquirySchema Schema { get; init; }

    /// <summary>The users who may answer (empty: not limited by name).</summary>
    public IReadOnlyList<string> Users { get; init; } = [];

    /// <summary>The roles whose members may answer (empty: not limited by role).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The chat system of the room the question went to, when it went to one.</summary>
    public string? Platform { get; init; }

    /// <summary>The room's platform id.</summary>
    public string? RoomId { get; init; }

    /// <summary>The room's name, for people.</summary>
    public string? RoomName { get; init; }

    /// <summary>The thread the question went to, where the platform has threads.</summary>
    public string? ThreadId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When an unanswered inquiry expires and its task fails.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    public string Status { get; init; } = InquiryStatuses.Pending;

    /// <summary>The answer as given (its fields typed by the schema), once answered or denied.</summary>
    public JsonObject? Response { get; init; }

    /// <summary>Who answered (an OpsRobot user name, or an unlinked chat label).</summary>
    public string? RespondedBy { get; init; }

    public DateTimeOffset? RespondedAt { get; init; }

    /// <summary>True for a plain approve/deny question (no schema given).</summary>
    public bool IsApproval => Schema.IsApproval;
}

/// <summary>Filter for listing inquiries.</summary>
public sealed record InquiryQuery
{
    /// <summary>Only inquiries in this status (null: all).</summary>
    public string? Status { get; init; }

    /// <summary>At most this many, newest first.</summary>
    public int Limit { get; init; } = 50;
}

/// <summary>The store of inquiries. Every change of status is a compare-and-set on <c>pending</c>, so of two answers at once exactly one wins.</summary>
public interface IInquiryStore
{
    /// <summary>Stores a new pending inquiry and returns it with its id.</summary>
    Task<InquiryRecord> CreateAsync(InquiryRecord inquiry, CancellationToken cancellationToken);

    Task<InquiryRecord?> GetAsync(long id, CancellationToken cancellationToken);

    Task<IReadOnlyList<InquiryRecord>> ListAsync(InquiryQuery query, CancellationToken cancellationToken);

    /// <summary>The inquiries a workflow's ask with these parameters opened, newest first (to adopt after a restart).</summary>
    Task<IReadOnlyList<InquiryRecord>> FindByParentAsync(long parentId, string parametersHash, CancellationToken cancellationToken);

    /// <summary>Hands the inquiry to the ask execution started again after a restart.</summary>
    Task<bool> AdoptAsync(long id, long oldExecutionId, long newExecutionId, CancellationToken cancellationToken);

    /// <summary>Ends a pending inquiry with <paramref name="status"/>; false when it was no longer pending.</summary>
    Task<bool> CloseAsync(long id, string status, JsonObject? response, string? respondedBy, DateTimeOffset at, CancellationToken cancellationToken);
}
