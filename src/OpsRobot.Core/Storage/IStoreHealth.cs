namespace OpsRobot.Core.Storage;

/// <summary>Raised when the store cannot take a write right now (disk full, database locked, read-only).</summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
