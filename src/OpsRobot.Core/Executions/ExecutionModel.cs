using System.Text.Json.Nodes;

namespace OpsRobot.Core.Executions;

/// <summary>Where an execution stands. The names and meanings are StackStorm's, plus <see cref="Abandoned"/>.</summary>
public enum ExecutionStatus
{
    /// <summary>Accepted and stored; not yet given a slot.</summary>
    Requested,

    /// <summary>Waiting for a slot (concurrency policy) or for a retry delay.</summary>
    Scheduled,

    Running,
    Succeeded,
    Failed,

    /// <summary>Ran longer than the action's timeout; its process tree was killed.</summary>
    Timeout,

    /// <summary>A cancel was asked for; the runner is stopping.</summary>
    Canceling,

    Canceled,

    /// <summary>OpsRobot stopped (a crash, a restart) while the execution was not finished; it will not go on.</summary>
    Abandoned,

    /// <summary>A workflow asked to pause: its running tasks finish, nothing new starts.</summary>
    Pausing,

    /// <summary>A workflow that is paused: nothing runs until it is resumed or canceled (its timeout keeps counting).</summary>
    Paused,

    /// <summary>A paused workflow asked to go on; it is <see cref="Running"/> again once it has.</summary>
    Resuming,

    /// <summary>An <c>ask</c> (inquiry) waiting for people to answer; its workflow shows <see cref="Paused"/> meanwhile.</summary>
    Pending,
}

/// <summary>Helpers on <see cref="ExecutionStatus"/>, and its sets named once.</summary>
public static class ExecutionStatuses
{
    /// <summary>Stored and not started yet: requested, or scheduled (waiting for a slot or a retry delay).</summary>
    public static IReadOnlyList<ExecutionStatus> Waiting { get; } = [ExecutionStatus.Requested, ExecutionStatus.Scheduled];

    /// <summary>
    /// Started and not asked to stop: it runs, is held by a workflow's pause, or is an ask waiting for its answer. A
    /// runner owns it, and a cancel moves it to <see cref="ExecutionStatus.Canceling"/>.
    /// </summary>
    public static IReadOnlyList<ExecutionStatus> Cancellable { get; } =
        [ExecutionStatus.Running, ExecutionStatus.Pausing, ExecutionStatus.Paused, ExecutionStatus.Resuming, ExecutionStatus.Pending];

    /// <summary>Started and not finished: <see cref="Cancellable"/>, or canceling (a runner owns it until it ends).</summary>
    public static IReadOnlyList<ExecutionStatus> Active { get; } = [.. Cancellable, ExecutionStatus.Canceling];

    /// <summary>Not finished: <see cref="Waiting"/> or <see cref="Active"/>; every status that <see cref="IsFinished"/> is not.</summary>
    public static IReadOnlyList<ExecutionStatus> Unfinished { get; } = [.. Waiting, .. Active];

    /// <summary>Stored and not started yet (<see cref="Waiting"/>).</summary>
    public static bool IsWaiting(this ExecutionStatus status) => status is ExecutionStatus.Requested or ExecutionStatus.Scheduled;

    /// <summary>Someone canceled it: it is stopping (canceling) or has stopped (canceled).</summary>
    public static bool IsCancelRequested(this ExecutionStatus status) => status is ExecutionStatus.Canceling or ExecutionStatus.Canceled;

    /// <summary>The statuses of a workflow that runs or is held by a pause: a runner owns it, and it can be canceled.</summary>
    public static bool IsPauseState(this ExecutionStatus status) =>
        status is ExecutionStatus.Pausing or ExecutionStatus.Paused or ExecutionStatus.Resuming;

    /// <summary>It ended and will not change again: succeeded, failed, timeout, canceled or abandoned.</summary>
    public static bool IsFinished(this ExecutionStatus status) =>
        status is ExecutionStatus.Succeeded or ExecutionStatus.Failed or ExecutionStatus.Timeout or ExecutionStatus.Canceled or ExecutionStatus.Abandoned;

    /// <summary>The lowercase name used in the store, the API and chat (<c>succeeded</c>, <c>timeout</c>, …).</summary>
    public static string ToWire(this ExecutionStatus status) => status.ToString().ToLowerInvariant();

    public static bool TryParseWire(string? text, out ExecutionStatus status) =>
        Enum.TryParse(text, ignoreCase: true, out status) && Enum.IsDefined(status) && !int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _);
}

/// <summary>Through which door a request came in.</summary>
public enum ExecutionDoor
{
    Chat,
    Api,
    Cli,
    Rule,
    Workflow,
    Retry,

    /// <summary>The stored record's requester could not be read (see <see cref="ExecutionRecord.Damage"/>).</summary>
    Unknown,
}

/// <summary>Who asked for an execution, through which door, and where to report back.</summary>
public sealed record ExecutionRequester
{
    public required ExecutionDoor Door { get; init; }

    /// <summary>The OpsRobot user's name (or the rule's, the API key's owner's).</summary>
    public required string UserName { get; init; }

    /// <summary>The chat adapter the command came from ("web", "shell", "irc"), when the door is chat.</summary>
    public string? Platform { get; init; }

    /// <summary>The room to report to: the platform's room id.</summary>
    public string? RoomId { get; init; }

    /// <summary>The room's name, for people.</summary>
    public string? RoomName { get; init; }

    /// <summary>The thread to answer in, where the platform has threads.</summary>
    public string? ThreadId { get; init; }

    /// <summary>The alias the command matched, when it came from chat.</summary>
    public string? AliasRef { get; init; }

    /// <summary>The network address an API or CLI call came from.</summary>
    public string? Address { get; init; }
}

/// <summary>One durable run of an action.</summary>
public sealed record ExecutionRecord
{
    public required long Id { get; init; }

    public required string ActionRef { get; init; }

    public required string RunnerType { get; init; }

    /// <summary>The parameters as run, with every secret replaced by <see cref="SecretMask.Mask"/>.</summary>
    public required JsonObject Parameters { get; init; }

    public required ExecutionStatus Status { get; init; }

    public required ExecutionRequester Requester { get; init; }

    public JsonNode? Result { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>Why it did not succeed, for people.</summary>
    public string? Error { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The execution that started this one (a workflow), if any.</summary>
    public long? ParentId { get; init; }

    /// <summary>The execution this one retries, if it is a retry.</summary>
    public long? RetryOf { get; init; }

    /// <summary>1 for the first try, 2 for the first retry, …</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The process that runs (or ran) it: <c>host:pid:start</c>. Recovery after a crash abandons only the executions of processes that are gone.</summary>
    public string Owner { get; init; } = string.Empty;

    /// <summary>
    /// Its stored <see cref="Parameters"/> are not the values it ran with: a secret was masked in them (a secret
    /// parameter, or a secret value the requester handed over, such as a datastore secret a rule put into a parameter).
    /// Such an execution is never started again from its stored parameters.
    /// </summary>
    public bool SecretsMasked { get; init; }

    /// <summary>
    /// What of the stored record could not be read, when something could not (a database edited by hand, or damaged):
    /// the record is shown with what could be read, and it is never started again.
    /// </summary>
    public string? Damage { get; init; }
}

/// <summary>A piece of an execution's output, in order.</summary>
public sealed record OutputChunk(long ExecutionId, long Sequence, Actions.OutputKind Kind, string Text, DateTimeOffset At);

/// <summary>Filters and paging for listing executions.</summary>
public sealed record ExecutionQuery
{
    public string? ActionRef { get; init; }

    public ExecutionStatus? Status { get; init; }

    public string? UserName { get; init; }

    public long? ParentId { get; init; }

    /// <summary>Only executions with an id below this (paging backwards from the newest).</summary>
    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

/// <summary>The text that stands for a secret everywhere it could be seen.</summary>
public static class SecretMask
{
    public const string Mask = "********";
}
