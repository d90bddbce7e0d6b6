using System.Collections.Concurrent;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>The answer to a pause or resume request.</summary>
/// <param name="Found">Whether the workflow runs in this process.</param>
/// <param name="Status">The workflow's status after the request, when it was accepted.</param>
/// <param name="Error">Why it was refused, for people.</param>
public sealed record WorkflowControlResult(bool Found, string? Status, string? Error);

/// <summary>
/// The workflows this process is running, so that a pause or resume from the API reaches the run that drives them.
/// A cancel goes through the execution service like any execution's and cascades to the running children.
/// </summary>
public sealed class WorkflowControl
{
    private readonly ConcurrentDictionary<long, WorkflowDriver> _running = new();

    internal void Register(WorkflowDriver driver) => _running[driver.ExecutionId] = driver;

    internal void Unregister(WorkflowDriver driver) => _running.TryRemove(new KeyValuePair<long, WorkflowDriver>(driver.ExecutionId, driver));

    /// <summary>Whether the workflow execution runs in this process.</summary>
    public bool IsRunning(long executionId) => _running.ContainsKey(executionId);

    /// <summary>
    /// Tells the workflow that child execution <paramref name="childId"/> now waits for people (an ask): its task goes
    /// <c>pending</c> and the workflow <c>paused</c>, as the workflow's own run stores and shows them, until the
    /// child's outcome comes back. False when the workflow does not run in this process (or has ended).
    /// </summary>
    public bool ReportChildWaiting(long workflowId, long childId) =>
        _running.TryGetValue(workflowId, out var driver) && driver.ChildWaiting(childId);

    /// <summary>Pauses a running workflow: running tasks finish, nothing new starts, until it is resumed.</summary>
    public Task<WorkflowControlResult> PauseAsync(long executionId) => RequestAsync(executionId, WorkflowStatuses.Pausing);

    /// <summary>Resumes a paused (or pausing) workflow.</summary>
    public Task<WorkflowControlResult> ResumeAsync(long executionId) => RequestAsync(executionId, WorkflowStatuses.Resuming);

    private async Task<WorkflowControlResult> RequestAsync(long executionId, string status)
    {
        if (!_running.TryGetValue(executionId, out var driver))
        {
            return new WorkflowControlResult(false, null, null);
        }

        try
        {
            return new WorkflowControlResult(true, await driver.RequestAsync(status).ConfigureAwait(false), null);
        }
        catch (InvalidOperationException ex)
        {
            return new WorkflowControlResult(true, null, ex.Message);
        }
    }
}
