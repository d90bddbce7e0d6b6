namespace OpsRobot.Hosting;

/// <summary>
/// A reason OpsRobot cannot start that the operator can fix: the message names the problem and the fix, and is
/// printed alone, without a stack trace.
/// </summary>
public sealed class StartupException : Exception
{
    public StartupException()
    {
    }

    public StartupException(string message)
        : base(message)
    {
    }

    public StartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
