using System.Globalization;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Status;

namespace OpsRobot.Hosting;

/// <summary>The execution service's line in <c>!status</c>.</summary>
internal sealed class ExecutionStatusSource(ExecutionService executions) : IStatusSource
{
    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ComponentStatus("executions", HealthState.Healthy,
            string.Create(CultureInfo.InvariantCulture, $"{executions.ActiveCount} running or waiting in this process")));
}
