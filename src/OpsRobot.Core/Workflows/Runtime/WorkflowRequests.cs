using OpsRobot.Core.Access;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>What came of a request to pause, resume or re-run a workflow.</summary>
public enum WorkflowRequestOutcome
{
    /// <summary>Done: <see cref="WorkflowRequestResult.Status"/> (pause, resume) or <see cref="WorkflowRequestResult.Started"/> (re-run) says how.</summary>
    Done,

    /// <summary>There is no execution with that id.</summary>
    NoExecution,

    /// <summary>The execution is not the caller's, and they lack <c>workflow.manage</c> on its action.</summary>
    Forbidden,

    /// <summary>The execution has ended, so there is nothing to pause or resume.</summary>
    Ended,

    /// <summary>The execution is not a workflow.</summary>
    NotAWorkflow,

    /// <summary>The workflow does not run in this process (another node runs it, or it has not started yet).</summary>
    NotRunningHere,

    /// <summary>The workflow's state does not allow it; <see cref="WorkflowRequestResult.Error"/> says why, for people.</summary>
    Refused,
}

/// <summary>The answer to a workflow request, with the execution it was about (null when there is none).</summary>
public sealed record WorkflowRequestResult(WorkflowRequestOutcome Outcome, ExecutionRecord? Execution)
{
    /// <summary>The workflow's status after a pause or resume.</summary>
    public string? Status { get; init; }

    /// <summary>Why the request was refused, for people.</summary>
    public string? Error { get; init; }

    /// <summary>What a re-run started.</summary>
    public WorkflowRerunStarted? Started { get; init; }
}

/// <summary>
/// Pause, resume and re-run as every door asks for them (chat commands, the API, and the CLI through the API): the
/// execution must exist, be the caller's or be on an action they hold <c>workflow.manage</c> on (docs/access.md), and
/// be in a state that allows it. Each door words the answer its own way.
/// </summary>
public sealed class WorkflowRequests(ExecutionService executions, WorkflowControl control, WorkflowRerun rerun, AccessService access)
{
    /// <summary>Whether a runner type runs workflows.</summary>
    public static bool IsWorkflowRunner(string runnerType) => runnerType is "workflow" or "orquesta";

    /// <summary>Pauses a running workflow: running tasks finish, nothing new starts, until it is resumed.</summary>
    /// <param name="executionId">The workflow's execution.</param>
    /// <param name="principal">Who asks; null where access control is off.</param>
    /// <param name="beforeChange">Called once the checks pass, before anything changes (the API audits there; the chat robot audits every command itself).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<WorkflowRequestResult> PauseAsync(long executionId, Principal? principal, Func<CancellationToken, Task>? beforeChange, CancellationToken cancellationToken) =>
        ControlAsync(executionId, principal, beforeChange, pause: true, cancellationToken);

    /// <summary>Resumes a paused (or pausing) workflow.</summary>
    /// <inheritdoc cref="PauseAsync" path="/param"/>
    public Task<WorkflowRequestResult> ResumeAsync(long executionId, Principal? principal, Func<CancellationToken, Task>? beforeChange, CancellationToken cancellationToken) =>
        ControlAsync(executionId, principal, beforeChange, pause: false, cancellationToken);

    /// <summary>Re-runs a workflow that ended without succeeding from its failed tasks (see <see cref="WorkflowRerun"/>).</summary>
    /// <param name="executionId">The workflow's execution.</param>
    /// <param name="tasks">The tasks to re-run; none means every task whose failure ended the workflow.</param>
    /// <param name="principal">Who asks; null where access control is off.</param>
    /// <param name="requester">Whose the new execution is.</param>
    /// <param name="beforeChange">Called once the checks pass, before anything changes.</param>
    /// <param name="cancellationToken">Cancels the request, not the re-run once it started.</param>
    public async Task<WorkflowRequestResult> RerunAsync(
        long executionId, IReadOnlyCollection<string> tasks, Principal? principal, ExecutionRequester requester, Func<CancellationToken, Task>? beforeChange, CancellationToken cancellationToken)
    {
        var (execution, refused) = await CheckAsync(executionId, principal, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await BeforeChangeAsync(beforeChange, cancellationToken).ConfigureAwait(false);
        try
        {
            var started = await rerun.RerunAsync(execution, tasks, requester, cancellationToken).ConfigureAwait(false);
            return new WorkflowRequestResult(WorkflowRequestOutcome.Done, execution) { Started = started };
        }
        catch (WorkflowRerunException ex)
        {
            return new WorkflowRequestResult(WorkflowRequestOutcome.Refused, execution) { Error = ex.Message };
        }
    }

    private async Task<WorkflowRequestResult> ControlAsync(
        long executionId, Principal? principal, Func<CancellationToken, Task>? beforeChange, bool pause, CancellationToken cancellationToken)
    {
        var (execution, refused) = await CheckAsync(executionId, principal, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await BeforeChangeAsync(beforeChange, cancellationToken).ConfigureAwait(false);
        if (execution.Status.IsFinished())
        {
            return new WorkflowRequestResult(WorkflowRequestOutcome.Ended, execution);
        }

        var result = pause ? await control.PauseAsync(executionId).ConfigureAwait(false) : await control.ResumeAsync(executionId).ConfigureAwait(false);
        return !result.Found
            ? new WorkflowRequestResult(IsWorkflowRunner(execution.RunnerType) ? WorkflowRequestOutcome.NotRunningHere : WorkflowRequestOutcome.NotAWorkflow, execution)
            : result.Error is { } error
                ? new WorkflowRequestResult(WorkflowRequestOutcome.Refused, execution) { Error = error }
                : new WorkflowRequestResult(WorkflowRequestOutcome.Done, execution) { Status = result.Status };
    }

    /// <summary>The execution, or the answer when it does not exist or is not the caller's to manage.</summary>
    private async Task<(ExecutionRecord Execution, WorkflowRequestResult? Refused)> CheckAsync(long executionId, Principal? principal, CancellationToken cancellationToken)
    {
        var execution = await executions.GetAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (execution is null)
        {
            return (null!, new WorkflowRequestResult(WorkflowRequestOutcome.NoExecution, null));
        }

        // A refusal is an access attempt: recorded in the audit as a deny, from chat and the API alike.
        return principal is null || await access.MayActOnExecutionAsync(principal, execution, Permissions.WorkflowManage, cancellationToken).ConfigureAwait(false)
            ? (execution, null)
            : (execution, new WorkflowRequestResult(WorkflowRequestOutcome.Forbidden, execution));
    }

    private static async Task BeforeChangeAsync(Func<CancellationToken, Task>? beforeChange, CancellationToken cancellationToken)
    {
        if (beforeChange is not null)
        {
            await beforeChange(cancellationToken).ConfigureAwait(false);
        }
    }
}
