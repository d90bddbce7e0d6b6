namespace OpsRobot.Core.Commands;

/// <summary>How the robot recognises the lines addressed to it. Bound from the <c>OpsRobot</c> configuration section.</summary>
public sealed class RobotOptions
{
    /// <summary>The robot's name: a line that starts by mentioning it (<c>opsrobot: ping</c>, <c>@opsrobot ping</c>) is a command.</summary>
    public string RobotName { get; set; } = "opsrobot";

    /// <summary>The prefix that marks a command (<c>!ping</c>).</summary>
    public string CommandPrefix { get; set; } = "!";

    /// <summary>
    /// The longest chat line, in characters, that the robot reads. Longer lines are refused with an explanation
    /// before any parser sees them.
    /// </summary>
    public int MaxMessageLength { get; set; } = 4000;
}
