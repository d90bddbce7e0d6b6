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
/// A line posted in pipelined mode (<see cref="BuiltInChat.PostPipelinedAsync"/>): the robot has dispatched it;
/// <see cref="Completion"/> finishes once the line and the answer are stored and delivered, <see cref="FollowUp"/>
/// once its later messages (an execution's result) are posted too.
/// </summary>
public sealed record PipelinedPost(Task<PostResult> Completion, Task FollowUp);

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
        Screen(user, room, text, platform);

        var now = time.GetUtcNow();
        var stored = await rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, user.Name, text, now), cancellationToken).ConfigureAwait(false);
        var members = await rooms.GetMemberIdsAsync(room.Id, cancellationToken).ConfigureAwait(false);
        feed.Publish(stored, members);

        var incoming = Incoming(user, room, text, platform, now);
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



    /// <summary>
    /// Posts a line the way a script's burst wants it: the robot dispatches this line now (after every line posted
    /// before it, as ever), but the line's storage, its audit record and the answer's storage are queued to the
    /// store's group commit instead of waited for one by one. The returned <see cref="PipelinedPost.Completion"/>
    /// finishes once they are stored, and only then is the answer delivered to the room, after
    /// <paramref name="previous"/>'s, so the room sees lines and answers in order and never an answer whose record
    /// is not stored. Commands with effects still wait for their record before they act (the robot sees to that).
    /// </summary>
    /// <param name="user">Who posts; the caller has checked membership.</param>
    /// <param name="room">Where.</param>
    /// <param name="text">The line.</param>
    /// <param name="platform">The adapter's name.</param>
    /// <param name="previous">The completion of the line posted before this one in the same session.</param>
    /// <param name="cancellationToken">Stops the post.</param>
    /// <exception cref="ChatRefusedException">The line is empty, oversized or binary; nothing was stored.</exception>
    public async Task<PipelinedPost> PostPipelinedAsync(UserRecord user, RoomRecord room, string text, string platform, Task previous, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(previous);
        text ??= string.Empty;
        Screen(user, room, text, platform);

        var now = time.GetUtcNow();
        var stored = rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, user.Name, text, now), cancellationToken);
        var incoming = Incoming(user, room, text, platform, now);
        var answer = await robot.HandleAsync(incoming, holdUntilRecorded: true, cancellationToken).ConfigureAwait(false);

        // Queued now, so history keeps each answer right after its line. The store commits in the order writes are
        // queued and the command's record was queued during the dispatch, so the answer is never stored without it (a
        // batch that fails as a whole fails the writes queued behind it too).
        var answerText = answer is null ? string.Empty : Rendering.MessageFallback.Markdown(answer);
        var storedReply = answerText.Length == 0
            ? null
            : rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.Robot, null, robot.Options.RobotName, answerText, time.GetUtcNow()), cancellationToken);
        var members = await MembersAsync(room.Id, user.Id, cancellationToken).ConfigureAwait(false);
        return new PipelinedPost(CompleteAsync(stored, answer, storedReply, members, previous), answer?.FollowUp ?? Task.CompletedTask);
    }

    /// <summary>Refuses, before anything is stored, a line that is empty, oversized or binary.</summary>
    private void Screen(UserRecord user, RoomRecord room, string text, string platform)
    {
        var max = robot.Options.MaxMessageLength;
        var verdict = MessageScreen.Check(text, max);
        if (verdict != ScreenVerdict.Accepted)
        {
            LogRefused(logger, platform, room.Name, user.Name, verdict, text.Length);
            throw new ChatRefusedException(verdict, MessageScreen.Explain(verdict, text.Length, max));
        }
    }

    /// <summary>The line as the robot sees it: from a user the door itself signed in.</summary>
    private static IncomingMessage Incoming(UserRecord user, RoomRecord room, string text, string platform, DateTimeOffset now) => new(
        platform,
        new ChatRoom(room.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), room.Name, room.Kind == RoomKind.Direct),
        new ChatUser(user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), user.Name),
        text,
        now)
    {
        AuthenticatedUserId = user.Id,
    };

    private async Task<PostResult> CompleteAsync(Task<StoredMessage> storedLine, OutgoingMessage? answer, Task<StoredMessage>? storedReply, IReadOnlyList<long> members, Task previous)
    {
        // The writer commits in the order writes were queued (line, record, answer) and tells a batch's callers in that
        // order, so once the last of them is done the others almost always are: waiting for it first makes one pause
        // per line instead of three. Each is still awaited below, in order, for its own outcome.
        var last = (Task?)storedReply ?? answer?.Recorded ?? storedLine;
        try
        {
            await last.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Only a pause: the failure is rethrown below by the write it belongs to, in order.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        var line = await storedLine.ConfigureAwait(false);
        if (answer is not null)
        {
            await answer.Recorded.ConfigureAwait(false);
        }

        var reply = storedReply is null ? null : await storedReply.ConfigureAwait(false);

        // Delivered in the order the lines were posted, whatever order the commits finished in.
        try
        {
            await previous.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The line before failing is reported by its own completion; this one still delivers.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        feed.Publish(line, members);
        if (reply is not null)
        {
            feed.Publish(reply, members);
        }

        answer?.Delivered?.Invoke();
        return new PostResult(line, reply, answer?.FollowUp ?? Task.CompletedTask);
    }

    /// <summary>
    /// A room's members for live delivery, read at most once a second in a burst (and again at once when the poster
    /// is not among them). Someone who joins during a burst sees its lines live within a second, and in history always.
    /// </summary>
    private async Task<IReadOnlyList<long>> MembersAsync(long roomId, long posterId, CancellationToken cancellationToken)
    {
        var cached = _members;
        var now = time.GetTimestamp();
        if (cached is not null && cached.RoomId == roomId && time.GetElapsedTime(cached.ReadAt, now) < MembersFresh && cached.Members.Contains(posterId))
        {
            return cached.Members;
        }

        var members = await rooms.GetMemberIdsAsync(roomId, cancellationToken).ConfigureAwait(false);
        _members = new MemberCache(roomId, members, now);
        return members;
    }

    private static readonly TimeSpan MembersFresh = TimeSpan.FromSeconds(1);
    private MemberCache? _members;

    private sealed record MemberCache(long RoomId, IReadOnlyList<long> Members, long ReadAt);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Refused a line on {Platform} in {Room} from {User}: {Verdict} ({Length} chars)")]
    private static partial void LogRefused(ILogger logger, string platform, string room, string user, ScreenVerdict verdict, int length);
}
