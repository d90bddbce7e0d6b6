namespace OpsRobot.Core.Workflows;

/// <summary>
/// The statuses of workflows and of their tasks, with StackStorm's names and meanings (the wire form is the string).
/// </summary>
public static class WorkflowStatuses
{
    /// <summary>Accepted, not yet scheduled.</summary>
    public const string Requested = "requested";

    /// <summary>Scheduled to run.</summary>
    public const string Scheduled = "scheduled";

    /// <summary>Waiting for its <c>delay</c> (or a retry's delay) to pass.</summary>
    public const string Delayed = "delayed";

    public const string Running = "running";

    /// <summary>Waiting on something outside (an inquiry); the workflow pauses around it.</summary>
    public const string Pending = "pending";

    /// <summary>A pause was asked for; running tasks finish, nothing new starts.</summary>
    public const string Pausing = "pausing";

    public const string Paused = "paused";

    public const string Resuming = "resuming";

    public const string Succeeded = "succeeded";

    public const string Failed = "failed";

    /// <summary>The action ran out of time (StackStorm's <c>timeout</c>).</summary>
    public const string Expired = "timeout";

    /// <summary>The process running the action went away; for a task, treated as failed.</summary>
    public const string Abandoned = "abandoned";

    /// <summary>A task about to run again under its retry policy.</summary>
    public const string Retrying = "retrying";

    /// <summary>A cancel was asked for; running tasks are being stopped.</summary>
    public const string Canceling = "canceling";

    public const string Canceled = "canceled";

    /// <summary>Every status.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Requested, Scheduled, Delayed, Running, Pending, Pausing, Paused, Resuming, Succeeded, Failed, Expired, Abandoned, Retrying, Canceling, Canceled];

    /// <summary>Statuses with which an action starts: a task that completed and gets one of these runs again (a cycle).</summary>
    public static bool IsStarting(string? s) => s is Requested or Scheduled or Delayed or Running or Pending;

    /// <summary>The workflow is running (or about to) and may start tasks.</summary>
    public static bool IsRunning(string? s) => s is Requested or Scheduled or Delayed or Running or Resuming or Retrying;

    /// <summary>Something is in progress.</summary>
    public static bool IsActive(string? s) => s is Requested or Scheduled or Delayed or Running or Resuming or Pausing or Canceling;

    /// <summary>Ended badly: failed, timed out or abandoned.</summary>
    public static bool IsAbended(string? s) => s is Failed or Expired or Abandoned;

    /// <summary>Ended, one way or another.</summary>
    public static bool IsCompleted(string? s) => s is Succeeded or Failed or Expired or Abandoned or Canceled;

    /// <summary>Whether the text is one of the statuses.</summary>
    public static bool IsValid(string? s) => s is not null && All.Contains(s, StringComparer.Ordinal);
}
