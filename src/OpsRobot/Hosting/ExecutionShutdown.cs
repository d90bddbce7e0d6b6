using OpsRobot.Core.Executions;

namespace OpsRobot.Hosting;

/// <summary>
/// Stops the execution engine as part of the host's stop (SIGTERM, Ctrl+C, systemctl stop), not only when its
/// services are disposed: running executions get <see cref="ExecutionOptions.StopGrace"/> to end, then their process
/// trees are killed and they are marked <c>abandoned</c>, and the rooms that asked are told while the chat adapters,
/// which stop after this, can still deliver it.
/// </summary>
internal sealed class ExecutionShutdown(ExecutionService executions) : IHostedService
{
    /// <summary>The engine's stop waits this long after the grace for killed process trees to be reaped and recorded.</summary>
    private static readonly TimeSpan AfterGrace = TimeSpan.FromSeconds(30);

    /// <summary>How long the host may take to stop: the grace, the kill and its record, and the adapters' own stop.</summary>
    public static TimeSpan HostShutdownTimeout(TimeSpan stopGrace) => (stopGrace > TimeSpan.Zero ? stopGrace : TimeSpan.Zero) + AfterGrace;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await executions.DisposeAsync().ConfigureAwait(false);
}
