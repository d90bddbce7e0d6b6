using OpsRobot.Core.Status;

namespace OpsRobot.Chat.Connected;

/// <summary>
/// <c>chat:&lt;platform&gt;</c> in <c>!status</c> and <c>/health</c>: healthy when connected, degraded otherwise,
/// with the queue and the last error. Names server and account, never a token.
/// </summary>
public sealed class ChatAdapterStatus(ChatAdapter adapter) : IStatusSource
{
    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var state = adapter.State;
        var detail = state switch
        {
            ChatAdapterState.Ready => $"connected: {adapter.Describe()}",
            ChatAdapterState.Reconnecting => $"reconnecting (failed attempts: {adapter.FailedAttempts}): {adapter.Describe()}",
            _ => $"{state.ToString().ToLowerInvariant()}: {adapter.Describe()}",
        };
        var queued = adapter.QueuedPosts;
        if (queued > 0)
        {
            detail += $", {queued} message(s) queued";
        }

        if (state != ChatAdapterState.Ready && adapter.LastError is { } error)
        {
            detail += $"; last error: {error}";
        }

        return ValueTask.FromResult(new ComponentStatus("chat:" + adapter.Platform, state == ChatAdapterState.Ready ? HealthState.Healthy : HealthState.Degraded, detail));
    }
}

/// <summary>
/// Sends the robot's later messages to rooms of one connected adapter's platform, and direct messages (one-time
/// codes) to its users, through its queue.
/// </summary>
public sealed class ChatAdapterReplySender(ChatAdapter adapter) : Core.Chat.IChatReplySender
{
    public Task<bool> SendAsync(string platform, Core.Chat.ChatRoom room, Core.Chat.OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(message);
        if (platform != adapter.Platform)
        {
            return Task.FromResult(false);
        }

        // Queued, not sent: the queue outlives a disconnect, so a result finished while the server is away still arrives.
        var queued = adapter.Enqueue(room, message);
        if (queued)
        {
            message.Delivered?.Invoke();
        }

        return Task.FromResult(queued);
    }

    /// <summary>
    /// A direct message to <paramref name="user"/> (by the platform's immutable user id), in the platform's direct
    /// conversation with the robot; false when it cannot be opened. Never falls back to a room.
    /// </summary>
    public Task<bool> SendDirectAsync(string platform, Core.Chat.ChatUser user, Core.Chat.OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(message);
        return platform != adapter.Platform ? Task.FromResult(false) : adapter.SendDirectAsync(user, message, cancellationToken);
    }
}
