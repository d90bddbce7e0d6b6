using OpsRobot.Core.Commands;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Hosting;

/// <summary>
/// Resumes, once the server listens, the workflows that a stop or a crash interrupted (start-up recovery leaves
/// them to <see cref="WorkflowRecovery"/>), and tells the room that asked for each how it ended, as the request's
/// own follow-up would have. A server that fails to start (its address taken) resumes nothing.
/// </summary>
internal sealed class WorkflowResumer(
    WorkflowRecovery recovery, IHostApplicationLifetime lifetime, Core.Chat.IChatReplySender sender, AliasDispatcher dispatcher, ILogger<WorkflowResumer> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenStartedAsync(stoppingToken).ConfigureAwait(false);
            var resumed = await recovery.ResumeAsync(stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(resumed.Select(handle => Composition.ReportResumedAsync(sender, dispatcher, handle, logger))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the runs stay stored and resume at the next start.
        }
    }

    /// <summary>Completes when the host has started (Kestrel is bound, after every other hosted service).</summary>
    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
    }
}
