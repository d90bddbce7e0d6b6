using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Hosting;

/// <summary>
/// Resumes, once the server runs, the workflows that a stop or a crash interrupted (start-up has already marked what
/// the gone process left as abandoned; see <see cref="WorkflowRecovery"/>).
/// </summary>
internal sealed class WorkflowResumer(WorkflowRecovery recovery) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var resumed = await recovery.ResumeAsync(stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(resumed).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the runs stay stored and resume at the next start.
        }
    }
}
