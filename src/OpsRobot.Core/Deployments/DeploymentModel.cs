namespace OpsRobot.Core.Deployments;

/// <summary>Where a deployment stands.</summary>
public enum DeploymentStatus
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// One deployment of an application version to an environment: who asked, through which back-end, what was there
/// before (so a rollback knows where to go), and how it ended.
/// </summary>
public sealed record DeploymentRecord
{
    public long Id { get; init; }

    public required string App { get; init; }

    public required string Version { get; init; }

    public required string Environment { get; init; }

    /// <summary><c>deploy</c> or <c>rollback</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The back-end that ran it (<c>ansible</c>, …).</summary>
    public required string Backend { get; init; }

    public required DeploymentStatus Status { get; init; }

    public required string RequestedBy { get; init; }

    /// <summary>The execution that ran it, when there was one.</summary>
    public long? ExecutionId { get; init; }

    /// <summary>The version deployed in that environment before this one (null for a first deployment).</summary>
    public string? PreviousVersion { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Why it failed, for people.</summary>
    public string? Error { get; init; }
}

/// <summary>The deployments' record: what is deployed where, and the history behind it.</summary>
public interface IDeploymentStore
{
    /// <summary>Stores a new deployment (status running) and returns its id.</summary>
    Task<long> StartAsync(DeploymentRecord record, CancellationToken cancellationToken);

    /// <summary>Ends a running deployment; false when it was not running.</summary>
    Task<bool> FinishAsync(long id, DeploymentStatus status, DateTimeOffset endedAt, string? failure, CancellationToken cancellationToken);

    /// <summary>
    /// The last succeeded deployment of each application in each environment (what is deployed where), optionally
    /// for one application or one environment, by application then environment.
    /// </summary>
    Task<IReadOnlyList<DeploymentRecord>> CurrentAsync(string? app, string? environment, CancellationToken cancellationToken);

    /// <summary>Deployments of one application in one environment, newest first.</summary>
    Task<IReadOnlyList<DeploymentRecord>> HistoryAsync(string app, string environment, int limit, CancellationToken cancellationToken);
}
