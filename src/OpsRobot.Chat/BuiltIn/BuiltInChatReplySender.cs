using System.Globalization;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;

namespace OpsRobot.Chat.BuiltIn;

/// <summary>
/// Delivers the robot's later messages to rooms of the built-in chat (the web chat and the shell chat): stored in
/// the room's history, then delivered live. It depends on the store and the feed only, not on the robot, which
/// itself sends through it. A room is given by its id (as messages from the room carry it), or by its name as routes
/// give rooms to every adapter (<c>new ChatRoom(name, name, false)</c>, e.g. alert and inquiry routes such as
/// <c>web:ops</c>): the name is looked up here, so callers send to a built-in room as to any other.
/// </summary>
public sealed class BuiltInChatReplySender(IRoomStore rooms, RoomFeed feed, IOptions<RobotOptions> robot, TimeProvider time) : IChatReplySender
{
    /// <summary>The platforms whose rooms are built-in chat rooms.</summary>
    public static IReadOnlySet<string> Platforms { get; } = new HashSet<string>(StringComparer.Ordinal) { "web", Shell.ShellChat.Platform };

    public async Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(message);
        if (!Platforms.Contains(platform) || await RoomIdAsync(room, cancellationToken).ConfigureAwait(false) is not { } roomId)
        {
            return false;
        }

        var said = await rooms.AppendAsync(
            new NewMessage(roomId, AuthorKind.Robot, null, robot.Value.RobotName, Rendering.MessageFallback.Markdown(message), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        feed.Publish(said, await rooms.GetMemberIdsAsync(roomId, cancellationToken).ConfigureAwait(false));
        return true;
    }

    /// <summary>
    /// The id of the room to post in: looked up by name when the room is given by its name (its id is its name, which
    /// a room's own id never is unless the room is named after it), otherwise its id; null when there is no such room.
    /// A room given as its id twice (a caller with no name for it) is found by that id when no room has it as a name.
    /// </summary>
    private async Task<long?> RoomIdAsync(ChatRoom room, CancellationToken cancellationToken)
    {
        if (string.Equals(room.Id, room.Name, StringComparison.Ordinal)
            && await rooms.FindAsync(room.Name, cancellationToken).ConfigureAwait(false) is { } named)
        {
            return named.Id;
        }

        return long.TryParse(room.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>Posts in the user's direct conversation with the robot (made if it does not exist yet).</summary>
    public async Task<bool> SendDirectAsync(string platform, ChatUser user, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(message);
        if (!Platforms.Contains(platform) || !long.TryParse(user.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var userId))
        {
            return false;
        }

        var direct = await rooms.GetOrCreateDirectAsync(userId, user.Name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return await SendAsync(platform, new ChatRoom(direct.Id.ToString(CultureInfo.InvariantCulture), direct.Name, IsDirect: true), message, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Hands each message to the first adapter that handles its platform.</summary>
public sealed class CompositeReplySender(IEnumerable<ReplySenderRegistration> parts) : IChatReplySender
{
    public async Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            if (await part.Sender.SendAsync(platform, room, message, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    public async Task<bool> SendDirectAsync(string platform, ChatUser user, OutgoingMessage message, CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            if (await part.Sender.SendDirectAsync(platform, user, message, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>One adapter's sender, registered for <see cref="CompositeReplySender"/>.</summary>
public sealed record ReplySenderRegistration(IChatReplySender Sender);
