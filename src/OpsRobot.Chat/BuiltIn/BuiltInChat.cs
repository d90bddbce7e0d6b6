using Microsoft.Extensions.Logging;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Users;

namespace OpsRobot.Chat.BuiltIn;

/// <summary>A chat line the built-in chat refused before storing it.</summary>
public sealed class ChatRefusedException(ScreenVerdict verdict, string message) : Exception(message)
{
    public ScreenVerdict Verdict { get; } = verdict;
}

/// <summary>What posting a line produced: the stored line, the robot's stored answer if it answered at once, and the
/// task that completes when its later messages (an execution's result) have been posted too.</summary>
public sealed record PostResult(StoredMessage Message, StoredMessage? Reply, Task FollowUp);

/// <summary>
/// OpsRobot's own chat system, used by the web chat and the shell chat: lines are stored in the room's history,
/// delivered live to the members connected, and handed to the robot, whose answer goes the same way.
/// </summary>
public sealed partial class BuiltInChat(IRoomStore rooms, Robot robot, RoomFeed feed, TimeProvider time, ILogger<BuiltInChat> logger)
{
    public RobotOptions Options => robot.Options;

    /// <summary>
    /// Posts a line from <paramref name="user"/> in <paramref name="room"/> on behalf of the adapter named
    /// <paramref name="platform"/>. The caller has checked membership. Throws <see cref="ChatRefusedException"/> for
    /// empty, oversized or binary lines, which are not stored.
    /// </summary>
    public async Task<PostResult> PostAsync(UserRecord user, RoomRecord room, string text, string platform, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(room);
        text ??= string.Empty;
        var max = robot.Options.MaxMessageLength;
        var verdict = MessageScreen.Check(text, max);
        if (verdict != ScreenVerdict.Accepted)
        {
            LogRefused(logger, platform, room.Name, user.Name, verdict, text.Length);
            throw new ChatRefusedException(verdict, MessageScreen.Explain(verdict, text.Length, max));
        }

        var now = time.GetUtcNow();
        var stored = await rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, user.Name, text, now), cancellationToken).ConfigureAwait(false);
        var members = await rooms.GetMemberIdsAsync(room.Id, cancellationToken).ConfigureAwait(false);
        feed.Publish(stored, members);

        var incoming = new IncomingMessage(
            platform,
            new ChatRoom(room.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), room.Name, room.Kind == RoomKind.Direct),
            new ChatUser(user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), user.Name),
            text,
            now)
        {
            AuthenticatedUserId = user.Id,
        };
        var answer = await robot.HandleAsync(incoming, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return new PostResult(stored, null, Task.CompletedTask);
        }

        var answerText = Rendering.MessageFallback.Markdown(answer);
        if (answerText.Length == 0)
        {
            answer.Delivered?.Invoke();
            return new PostResult(stored, null, answer.FollowUp);
        }

        var reply = await rooms.AppendAsync(
            new NewMessage(room.Id, AuthorKind.Robot, null, robot.Options.RobotName, answerText, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        feed.Publish(reply, members);
        answer.Delivered?.Invoke();
        return new PostResult(stored, reply, answer.FollowUp);
    }



    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Refused a line on {Platform} in {Room} from {User}: {Verdict} ({Length} chars)")]
    private static partial void LogRefused(ILogger logger, string platform, string room, string user, ScreenVerdict verdict, int length);
}
