namespace OpsRobot.Core.Status;

/// <summary>How well a part of OpsRobot is doing.</summary>
public enum HealthState
{
    Healthy,
    Degraded,
    Unhealthy,
}

/// <summary>One line of <c>!status</c> and of <c>/health</c>.</summary>
public sealed record ComponentStatus(string Component, HealthState State, string Detail);

/// <summary>A part of OpsRobot that can say how it is doing (the store, the packs, each chat adapter).</summary>
public interface IStatusSource
{
    ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken);
}

/// <summary>What this running OpsRobot is.</summary>
/// <param name="Version">The product version, with the source revision when known.</param>
/// <param name="StartedAt">When this process started serving.</param>
public sealed record RobotInfo(string Version, DateTimeOffset StartedAt);
