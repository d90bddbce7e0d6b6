namespace OpsRobot.Chat.Connected;

/// <summary>A chat platform's API refused or failed a call.</summary>
public class ChatApiException : Exception
{
    public ChatApiException()
    {
    }

    public ChatApiException(string message)
        : base(message)
    {
    }

    public ChatApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ChatApiException(string message, bool transient)
        : base(message) => Transient = transient;

    /// <summary>
    /// True when trying again later may work (a server error, a dropped connection); false when the call itself is
    /// wrong (unknown channel, refused token) and repeating it would only repeat the refusal.
    /// </summary>
    public bool Transient { get; }
}

/// <summary>The platform answered 429 (or its equivalent): wait <see cref="RetryAfter"/> before the next call.</summary>
public sealed class ChatRateLimitedException : ChatApiException
{
    public ChatRateLimitedException()
    {
    }

    public ChatRateLimitedException(string message)
        : base(message)
    {
    }

    public ChatRateLimitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ChatRateLimitedException(string message, TimeSpan retryAfter)
        : base(message, transient: true) => RetryAfter = retryAfter;

    public TimeSpan RetryAfter { get; }
}
