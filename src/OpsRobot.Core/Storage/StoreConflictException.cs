namespace OpsRobot.Core.Storage;

/// <summary>A write refused because it would break a uniqueness rule (a name already taken).</summary>
public sealed class StoreConflictException : Exception
{
    public StoreConflictException()
    {
    }

    public StoreConflictException(string message)
        : base(message)
    {
    }

    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
