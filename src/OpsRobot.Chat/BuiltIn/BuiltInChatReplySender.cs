using System.Globalization;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;

namespace OpsRobot.Chat.BuiltIn;

/// <summary>
/// Delivers the robot's later messages to rooms of the built-in chat (the web chat and the shell chat): stored in
/// the room's history, then delivered live. It depends on the store and the feed only, not on the robot, which
/// itself sends through it.
/// </summary>
public sealed class BuiltInChatReplySender(IRoomStore rooms, RoomFeed feed, IOptions<RobotOptions> robot, TimeProvider time) : IChatReplySender
{
    /// <summary>The platforms whose rooms are built-in chat rooms.</summary>
    public static IReadOnlySet<string> Platforms { get; } = new HashSet<string>(StringComparer.Ordinal) { "web", Shell.ShellChat.Platform };

    public async Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(message);
        if (!Platforms.Contains(platform) || !long.TryParse(room.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var roomId))
        {
            return false;
        }

        var said = await rooms.AppendAsync(
            new NewMessage(roomId, AuthorKind.Robot, null, robot.Value.RobotName, Rendering.MessageFallback.Markdown(message), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        feed.Publish(said, await rooms.GetMemberIdsAsync(roomId, cancellationToken).ConfigureAwait(false));
        return true;
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
