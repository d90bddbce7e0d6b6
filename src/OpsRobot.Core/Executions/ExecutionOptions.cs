namespace OpsRobot.Core.Executions;

/// <summary>Limits of the execution service. Bound from <c>OpsRobot:Executions</c>.</summary>
public sealed class ExecutionOptions
{
    /// <summary>Executions running at once in this process, all actions together; more wait as <c>scheduled</c>.</summary>
    public int MaxConcurrent { get; set; } = 1000;

    /// <summary>How often streamed output is written to the store.</summary>
    public TimeSpan OutputFlushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Output characters stored per execution. Beyond this the output is still streamed live but no longer kept,
    /// and a marker says so: a runaway command cannot fill the disk.
    /// </summary>
    public int MaxStoredOutputChars { get; set; } = 10_000_000;

    /// <summary>How long executions get to finish when OpsRobot stops before they are abandoned.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);
}
