namespace OpsRobot.Core.Aliases;

/// <summary>
/// An alias format that cannot be used: a parameter left open (<c>{{app</c>), an invalid parameter name, a
/// parameter declared twice, or a regular expression Python would refuse. <see cref="Column"/> points at the
/// offending place in the format, counted from 1, so a pack author can find it.
/// </summary>
public class AliasFormatException : Exception
{
    public AliasFormatException()
        : this("The alias format is not valid.")
    {
    }

    public AliasFormatException(string message)
        : this(message, 1, null)
    {
    }

    public AliasFormatException(string message, Exception innerException)
        : this(message, 1, innerException)
    {
    }

    public AliasFormatException(string message, int column, Exception? innerException = null)
        : base(message, innerException)
    {
        Column = Math.Max(1, column);
    }

    /// <summary>Where in the format the problem is, 1-based (1 when it concerns the format as a whole).</summary>
    public int Column { get; }
}

/// <summary>
/// Matching a text against a format ran past <see cref="AliasFormat.MatchTimeout"/>: the format's regular
/// expression backtracks catastrophically on this text (StackStorm, which has no limit, would hang). It derives from
/// <see cref="AliasFormatException"/> because the format is what needs fixing; <see cref="AliasFormatException.Column"/>
/// is 1.
/// </summary>
public sealed class AliasMatchTimeoutException : AliasFormatException
{
    public AliasMatchTimeoutException()
        : this("Matching the alias format took too long.")
    {
    }

    public AliasMatchTimeoutException(string message)
        : base(message)
    {
    }

    public AliasMatchTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal AliasMatchTimeoutException(string format, int textLength, TimeSpan timeout, Exception innerException)
        : base(
            $"Matching a {textLength}-character text against the alias format \"{format}\" took longer than "
            + $"{timeout.TotalMilliseconds:0} ms: the format's regular expression backtracks catastrophically on it.",
            innerException)
    {
        Timeout = timeout;
    }

    /// <summary>The limit that was exceeded.</summary>
    public TimeSpan Timeout { get; }
}
