using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Resumes workflows after OpsRobot stopped or crashed in the middle of them. At start, the execution service leaves
/// a workflow whose run is stored to this class (<see cref="IsResumableAsync"/>): it is not abandoned, and its room
/// hears of it only when it ends. Its execution goes back to running and the run carries on from its stored state.
/// Tasks that completed are not run again; a task whose action was cut off by the crash is started again (it never
/// completed); a task that was about to start starts. A workflow execution marked abandoned with its run stored (by an
/// older version, or by a stop) is resumed the same way.
/// </summary>
public sealed partial class WorkflowRecovery(
    IServiceProvider services, IWorkflowStore store, IExecutionStore executionStore, ExecutionEvents events, WorkflowGraphCache graphs,
    WorkflowExpressions expressions, TimeProvider time, ILogger<WorkflowRecovery> logger)
{
    /// <summary>The statuses of a workflow this process drives, from which it ends (a workflow is never pending; its asks are).</summary>
    private static readonly IReadOnlyList<ExecutionStatus> Owned = ExecutionStatuses.Active;

    /// <summary>
    /// True when <paramref name="execution"/> is a workflow whose run is stored and not finished, so that
    /// <see cref="ResumeAsync"/> carries it on: recovery must leave it, not abandon it.
    /// </summary>
    public async Task<bool> IsResumableAsync(ExecutionRecord execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        return execution.Damage is null
            && await store.GetAsync(execution.Id, cancellationToken).ConfigureAwait(false) is { Finished: false };
    }

    /// <summary>
    /// Takes over the stored runs that a gone process left unfinished (or that were marked abandoned) and resumes
    /// each in the background. Returns a handle for each: its outcome is the workflow's final record (it completes
    /// when the workflow ends, or with the record as it stands when <paramref name="stopping"/> fires).
    /// </summary>
    public async Task<IReadOnlyList<ExecutionHandle>> ResumeAsync(CancellationToken stopping)
    {
        var resumed = new List<ExecutionHandle>();
        foreach (var run in await store.ListUnfinishedAsync(stopping).ConfigureAwait(false))
        {
            var execution = await executionStore.GetAsync(run.ExecutionId, stopping).ConfigureAwait(false);
            if (execution is null || !await TakeOverAsync(execution, stopping).ConfigureAwait(false))
            {
                continue;
            }

            await PublishAsync(run.ExecutionId).ConfigureAwait(false);
            LogResuming(logger, run.ExecutionId, run.ActionRef);
            var outcome = Task.Run(() => DriveAsync(run, execution, stopping), CancellationToken.None);
            resumed.Add(new ExecutionHandle(execution, outcome));
        }

        return resumed;
    }

    /// <summary>Moves a workflow execution that nobody drives any more to running, owned by this process; false when it is not such.</summary>
    private async Task<bool> TakeOverAsync(ExecutionRecord execution, CancellationToken stopping)
    {
        if (execution.Damage is { } damage)
        {
            // Its record cannot be read whole (who asked for it, or with what): it stays as recovery left it, with the
            // reason, and is not driven on under a guessed identity.
            LogDamaged(logger, execution.Id, damage);
            return false;
        }

        IReadOnlyList<ExecutionStatus> from;
        if (execution.Status == ExecutionStatus.Abandoned)
        {
            // Ended by a stop (or by an older version's recovery) with its run stored: it carries on.
            from = [ExecutionStatus.Abandoned];
        }
        else if (execution.Status.IsFinished() || execution.Owner == ExecutionService.ProcessOwner
            || ProcessIdentity.IsAlive(execution.Owner, execution.CreatedAt, time.GetUtcNow()))
        {
            // Finished, driven here, or driven by a process that still runs.
            return false;
        }
        else
        {
            from = ExecutionStatuses.Unfinished;
        }

        // Compare-and-set on the owner: of two servers on one data folder starting at once, one takes it.
        return await executionStore.ClaimAsync(execution.Id, execution.Owner, ExecutionService.ProcessOwner, from, stopping).ConfigureAwait(false)
            && await executionStore.TransitionAsync(execution.Id, from, ExecutionStatus.Running, new ExecutionUpdate { Error = string.Empty }, stopping).ConfigureAwait(false);
    }

    private async Task<ExecutionRecord> DriveAsync(WorkflowRunRecord run, ExecutionRecord execution, CancellationToken stopping)
    {
        var id = run.ExecutionId;
        var ended = await DriveToEndAsync(run, execution, stopping).ConfigureAwait(false);
        var record = await executionStore.GetAsync(id, CancellationToken.None).ConfigureAwait(false) ?? execution;
        if (ended && record.Status.IsFinished() && services.GetService<IExecutionGuard>() is { } guard)
        {
            try
            {
                await guard.FinishedAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The execution's own record holds the outcome; a failing audit store must not hide it.
                LogResumeFailed(logger, ex, id);
            }
        }

        return record;
    }

    /// <summary>Drives the run to its end; true when this call moved the execution to a final status.</summary>
    private async Task<bool> DriveToEndAsync(WorkflowRunRecord run, ExecutionRecord execution, CancellationToken stopping)
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

            if (status is null && stopping.IsCancellationRequested)
            {
                // OpsRobot stops: the run stays stored and its execution unfinished, so the next start carries it on
                // (its owner, this process, is gone by then) without telling anyone it was abandoned.
                return false;
            }

            // Not run through the execution service, which masks what a run stores: the result is masked here, with the
            // secrets the driver recomputed from the run's stored state.
            var masker = new Executions.SecretMasker(driver.SecretValues);
            var outcome = WorkflowRunner.Outcome(driver, status);
            var final = outcome.Outcome switch
            {
                Actions.RunnerOutcome.Succeeded => ExecutionStatus.Succeeded,
                Actions.RunnerOutcome.Failed => ExecutionStatus.Failed,
                _ when status is null => ExecutionStatus.Abandoned,
                _ => ExecutionStatus.Canceled,
            };
            var moved = await executionStore.TransitionAsync(id, Owned, final, new ExecutionUpdate
            {
                EndedAt = time.GetUtcNow(),
                Result = masker.Mask(outcome.Result),
                Error = outcome.Error is null ? string.Empty : masker.Mask(outcome.Error),
            }, CancellationToken.None).ConfigureAwait(false);
            await PublishAsync(id).ConfigureAwait(false);
            LogResumedEnded(logger, id, final.ToWire());
            return moved;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogResumeFailed(logger, ex, id);
            try
            {
                var moved = await executionStore.TransitionAsync(id, Owned, ExecutionStatus.Failed, new ExecutionUpdate
                {
                    EndedAt = time.GetUtcNow(),
                    Error = $"OpsRobot could not resume the workflow: {ex.Message}",
                }, CancellationToken.None).ConfigureAwait(false);
                await PublishAsync(id).ConfigureAwait(false);
                return moved;
            }
            catch (Exception inner) when (inner is not OutOfMemoryException)
            {
                LogResumeFailed(logger, inner, id);
                return false;
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
