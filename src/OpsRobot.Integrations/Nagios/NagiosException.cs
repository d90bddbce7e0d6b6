namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Something Nagios cannot do or a value it must not get; the message is a sentence for the operator who asked.
/// </summary>
public sealed class NagiosException : Exception
{
    public NagiosException(string message)
        : base(message)
    {
    }

    public NagiosException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public NagiosException()
    {
    }
}
