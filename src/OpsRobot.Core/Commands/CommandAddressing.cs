namespace OpsRobot.Core.Commands;

/// <summary>Decides whether a chat line is addressed to the robot and, if so, what the command text is.</summary>
public static class CommandAddressing
{
    /// <summary>
    /// Returns the command text of a line addressed to the robot: one that starts with the command prefix, one that
    /// starts by mentioning the robot (<c>opsrobot: ping</c>, <c>@opsrobot, ping</c>, <c>opsrobot ping</c>), or any
    /// line in a direct conversation. Returns null for ordinary conversation.
    /// </summary>
    public static string? TryGetCommand(string text, bool isDirect, RobotOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);

        var line = text.Trim();
        if (!string.IsNullOrEmpty(options.CommandPrefix) && line.StartsWith(options.CommandPrefix, StringComparison.Ordinal))
        {
            return line[options.CommandPrefix.Length..].Trim();
        }

        var mentioned = StripMention(line, options.RobotName);
        if (mentioned is not null)
        {
            return mentioned;
        }

        return isDirect ? line : null;
    }

    private static string? StripMention(string line, string robotName)
    {
        if (string.IsNullOrEmpty(robotName))
        {
            return null;
        }

        var rest = line.AsSpan();
        if (rest.StartsWith("@", StringComparison.Ordinal))
        {
            rest = rest[1..];
        }

        if (!rest.StartsWith(robotName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        rest = rest[robotName.Length..];
        if (rest.IsEmpty)
        {
            return string.Empty;
        }

        // "opsrobotics is great" is not a mention: the name must end at a separator.
        if (rest[0] is ':' or ',')
        {
            return rest[1..].Trim().ToString();
        }

        return char.IsWhiteSpace(rest[0]) ? rest.Trim().ToString() : null;
    }
}
