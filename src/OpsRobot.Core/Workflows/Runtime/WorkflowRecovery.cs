using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Resumes workflows after OpsRobot stopped or crashed in the middle of them. At start, the execution service
/// marks what the gone process was running as abandoned; for a workflow whose run is stored, that is not the end:
/// its execution goes back to running and the run carries on from its stored state. Tasks that completed are not
/// run again; a task whose action was cut off by the crash is started again (it never completed); a task that was
/// about to start starts.
/// </summary>
public sealed partial class WorkflowRecovery(
    IServiceProvider services, IWorkflowStore store, IExecutionStore executionStore, ExecutionEvents events, WorkflowGraphCache graphs,
    WorkflowExpressions expressions, TimeProvider time, ILogger<WorkflowRecovery> logger)
{
    /// <summary>The statuses of a workflow this process drives, from which it ends (a workflow is never pending; its asks are).</summary>
    private static readonly IReadOnlyList<ExecutionStatus> Owned = ExecutionStatuses.Active;

    /// <summary>
    /// Finds the stored runs whose execution was abandoned and resumes each in the background. Returns the tasks of
    /// the resumed runs (they end when the workflow does, or when <paramref name="stopping"/> fires).
    /// </summary>
    public async Task<IReadOnlyList<Task>> ResumeAsync(CancellationToken stopping)
    {
        var resumed = new List<Task>();
        foreach (var run in await store.ListUnfinishedAsync(stopping).ConfigureAwait(false))
        {
            var execution = await executionStore.GetAsync(run.ExecutionId, stopping).ConfigureAwait(false);
            if (execution?.Status != ExecutionStatus.Abandoned)
            {
                continue;
            }

            if (execution.Damage is { } damage)
            {
                // Its record cannot be read whole (who asked for it, or with what): it stays abandoned, with the reason
                // the execution service gave it, and is not driven on under a guessed identity.
                LogDamaged(logger, run.ExecutionId, damage);
                continue;
            }

            if (!await executionStore.TransitionAsync(run.ExecutionId, [ExecutionStatus.Abandoned], ExecutionStatus.Running,
                    new ExecutionUpdate { Error = string.Empty }, stopping).ConfigureAwait(false))
            {
                continue;
            }

            await PublishAsync(run.ExecutionId).ConfigureAwait(false);
            LogResuming(logger, run.ExecutionId, run.ActionRef);
            resumed.Add(Task.Run(() => DriveAsync(run, execution, stopping), CancellationToken.None));
        }

        return resumed;
    }

    private async Task DriveAsync(WorkflowRunRecord run, ExecutionRecord execution, CancellationToken stopping)
    {
        var id = run.ExecutionId;
        try
        {
            var graph = graphs.Load(run.WorkflowFile);
            var executions = services.GetRequiredService<ExecutionService>();
            // A run stored encrypted stays so; the action's secrets are checked again in case it was stored before they were.
            var action = services.GetService<Packs.PackCatalog>()?.Current.FindAction(run.ActionRef);
            var driver = await WorkflowDriver.OpenAsync(store, executions, expressions, time, logger, services.GetRequiredService<WorkflowStateSeal>(), action,
                graph, id, run.ActionRef, run.WorkflowFile,
                [], WorkflowRunner.ChildRequester(execution.Requester), stopping).ConfigureAwait(false);

            // This process does not run the execution through the execution service, so a cancel arrives as a status
            // change of the record: watch for it.
            using var canceled = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var watch = WatchForCancelAsync(id, canceled);
            async Task<bool> CanceledByUser() => await IsCanceledAsync(id).ConfigureAwait(false);
            var control = services.GetRequiredService<WorkflowControl>();
            control.Register(driver);
            string? status;
            try
            {
                status = await driver.RunAsync(CanceledByUser, canceled.Token).ConfigureAwait(false);
            }
            finally
            {
                control.Unregister(driver);
            }

            await canceled.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);

            var outcome = WorkflowRunner.Outcome(driver, status);
            var final = outcome.Outcome switch
            {
                Actions.RunnerOutcome.Succeeded => ExecutionStatus.Succeeded,
                Actions.RunnerOutcome.Failed => ExecutionStatus.Failed,
                _ when status is null => ExecutionStatus.Abandoned,
                _ => ExecutionStatus.Canceled,
            };
            await executionStore.TransitionAsync(id, Owned, final, new ExecutionUpdate
            {
                EndedAt = time.GetUtcNow(),
                Result = outcome.Result,
                Error = outcome.Error ?? string.Empty,
            }, CancellationToken.None).ConfigureAwait(false);
            await PublishAsync(id).ConfigureAwait(false);
            LogResumedEnded(logger, id, final.ToWire());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogResumeFailed(logger, ex, id);
            try
            {
                await executionStore.TransitionAsync(id, Owned, ExecutionStatus.Failed, new ExecutionUpdate
                {
                    EndedAt = time.GetUtcNow(),
                    Error = $"OpsRobot could not resume the workflow: {ex.Message}",
                }, CancellationToken.None).ConfigureAwait(false);
                await PublishAsync(id).ConfigureAwait(false);
            }
            catch (Exception inner) when (inner is not OutOfMemoryException)
            {
                LogResumeFailed(logger, inner, id);
            }
        }
    }

    private async Task<bool> IsCanceledAsync(long id) =>
        (await executionStore.GetAsync(id, CancellationToken.None).ConfigureAwait(false))?.Status.IsCancelRequested() == true;

    private async Task WatchForCancelAsync(long id, CancellationTokenSource canceled)
    {
        try
        {
            while (!canceled.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, canceled.Token).ConfigureAwait(false);
                if (await IsCanceledAsync(id).ConfigureAwait(false))
                {
                    await canceled.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended, or OpsRobot stops.
        }
    }

    private async Task PublishAsync(long id)
    {
        if (await executionStore.GetAsync(id, CancellationToken.None).ConfigureAwait(false) is { } record)
        {
            events.Publish(new ExecutionStatusEvent(record));
        }
    }

    [LoggerMessage(EventId = 1211, Level = LogLevel.Warning, Message = "Resuming workflow execution {ExecutionId} of {ActionRef}, interrupted when OpsRobot stopped")]
    private static partial void LogResuming(ILogger logger, long executionId, string actionRef);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Information, Message = "Resumed workflow execution {ExecutionId} ended: {Status}")]
    private static partial void LogResumedEnded(ILogger logger, long executionId, string status);

    [LoggerMessage(EventId = 1214, Level = LogLevel.Warning, Message = "Workflow execution {ExecutionId} is not resumed: its stored record cannot be read ({Damage})")]
    private static partial void LogDamaged(ILogger logger, long executionId, string damage);

    [LoggerMessage(EventId = 1213, Level = LogLevel.Error, Message = "Resuming workflow execution {ExecutionId} failed")]
    private static partial void LogResumeFailed(ILogger logger, Exception exception, long executionId);
}
