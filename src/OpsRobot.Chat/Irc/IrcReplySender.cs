using OpsRobot.Core.Chat;
using OpsRobot.Core.Status;

namespace OpsRobot.Chat.Irc;

/// <summary>Sends the robot's later messages (an execution's result) to an IRC channel or nick (the room id).</summary>
public sealed class IrcReplySender(IrcAdapter adapter) : IChatReplySender
{
    public Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(message);
        if (platform != IrcAdapter.Platform)
        {
            return Task.FromResult(false);
        }

        // Queued, not sent: the queue outlives a disconnect, so a result finished while the server is away still arrives.
        return Task.FromResult(adapter.Enqueue(room.Id, Rendering.MessageFallback.Markdown(message)));
    }

    /// <summary>A private message to the nick: the user id on IRC.</summary>
    public Task<bool> SendDirectAsync(string platform, ChatUser user, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(message);
        return Task.FromResult(platform == IrcAdapter.Platform && adapter.Enqueue(user.Id, message.Text));
    }
}

/// <summary>
/// <c>chat:irc</c> in <c>!status</c> and <c>/health</c>: healthy when registered and in every channel, degraded
/// otherwise. Names the server and nick, never a password.
/// </summary>
public sealed class IrcStatusSource(IrcAdapter adapter, Microsoft.Extensions.Options.IOptions<IrcOptions> options) : IStatusSource
{
    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var server = $"{o.Host}:{o.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(o.UseTls ? " (TLS)" : string.Empty)}";
        var nick = adapter.CurrentNick ?? o.Nick;
        var state = adapter.State;
        var detail = state switch
        {
            IrcState.Ready => $"connected to {server} as {nick}, in {o.Channels.Count} channel(s)",
            IrcState.Reconnecting => $"reconnecting to {server} as {nick} (failed attempts: {adapter.FailedAttempts})",
            _ => $"{state.ToString().ToLowerInvariant()} on {server} as {nick}",
        };
        var queued = adapter.QueuedLines;
        if (queued > 0)
        {
            detail += $", {queued} line(s) queued";
        }

        return ValueTask.FromResult(new ComponentStatus("chat:irc", state == IrcState.Ready ? HealthState.Healthy : HealthState.Degraded, detail));
    }
}
