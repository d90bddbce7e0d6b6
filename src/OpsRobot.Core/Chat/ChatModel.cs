namespace OpsRobot.Core.Chat;

/// <summary>A room on some chat system, as the robot sees it.</summary>
/// <param name="Id">The platform's own, immutable id of the room.</param>
/// <param name="Name">The room's human name, for replies and logs.</param>
/// <param name="IsDirect">True for a direct conversation with the robot: every line there is a command.</param>
public sealed record ChatRoom(string Id, string Name, bool IsDirect);

/// <summary>A person on some chat system.</summary>
/// <param name="Id">The platform's immutable user id (never the display name).</param>
/// <param name="Name">The user name shown in replies.</param>
public sealed record ChatUser(string Id, string Name);

/// <summary>A message that reached the robot from a chat adapter.</summary>
public sealed record IncomingMessage(string Platform, ChatRoom Room, ChatUser Sender, string Text, DateTimeOffset ReceivedAt)
{
    /// <summary>The thread the message was posted in, on platforms that have threads.</summary>
    public string? ThreadId { get; init; }

    /// <summary>
    /// The OpsRobot user who sent it, when the door itself signed them in (the web console, the shell). Chat
    /// adapters leave it null: their senders are mapped to users through linked identities.
    /// </summary>
    public long? AuthenticatedUserId { get; init; }
}

/// <summary>What the robot says back: Markdown text that each adapter renders in its platform's dialect.</summary>
public sealed record OutgoingMessage(string Text)
{
    /// <summary>The thread to answer in, on platforms that have threads.</summary>
    public string? ThreadId { get; init; }

    /// <summary>
    /// Completes when every message that follows this one has been sent (an execution's progress and result,
    /// which arrive later through <see cref="IChatReplySender"/>). Scripts that drive the robot wait on it.
    /// </summary>
    public Task FollowUp { get; init; } = Task.CompletedTask;

    /// <summary>
    /// Called by the adapter once this message is posted (or, when its text is empty, once it decided not to post
    /// it). The messages that follow it wait for this, so an execution's result never lands before its
    /// acknowledgement.
    /// </summary>
    public Action? Delivered { get; init; }

    /// <summary>
    /// Completes when the records this answer rests on (the command's audit record) are stored. <see
    /// cref="Commands.Robot.HandleAsync(IncomingMessage, CancellationToken)"/> waits for it before returning, so
    /// adapters need not; a caller that asked for the answer early must not show it before this completes.
    /// </summary>
    public Task Recorded { get; init; } = Task.CompletedTask;

    /// <summary>
    /// Buttons under the message, each standing for a chat command. Platforms with interactive buttons show
    /// them; the others show the command as a hint (<c>!approve 12</c>) that a person can type.
    /// </summary>
    public IReadOnlyList<ChatButton> Buttons { get; init; } = [];

    /// <summary>Links and images shown with the message (an image inline where the platform can, a link otherwise).</summary>
    public IReadOnlyList<ChatAttachment> Attachments { get; init; } = [];
}

/// <summary>How a button looks, where the platform lets us choose.</summary>
public enum ChatButtonStyle
{
    Default,
    Primary,
    Danger,
}

/// <summary>
/// A button that stands for a chat command: pressing it is the same as the pressing user typing
/// <see cref="Command"/> in the room (and thread) the message is in, with that user's rights.
/// </summary>
/// <param name="Label">The text on the button.</param>
/// <param name="Command">The full chat command, prefix included (<c>!approve 12</c>).</param>
public sealed record ChatButton(string Label, string Command)
{
    public ChatButtonStyle Style { get; init; }
}

/// <summary>A link or an image shown with a message.</summary>
/// <param name="Title">What the link says, or the image's alternative text.</param>
/// <param name="Url">An absolute http(s) address.</param>
public sealed record ChatAttachment(string Title, Uri Url)
{
    /// <summary>True when <see cref="Url"/> is an image the platform may show inline.</summary>
    public bool IsImage { get; init; }
}

/// <summary>
/// Sends the robot's later messages (an execution's progress and result) to a room of any chat system. Each chat
/// adapter handles its platforms; the host composes them.
/// </summary>
public interface IChatReplySender
{
    /// <summary>Sends <paramref name="message"/> to <paramref name="room"/> on <paramref name="platform"/>; false when no adapter handles that platform.</summary>
    Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="user"/> alone, in a direct conversation on
    /// <paramref name="platform"/>: the second channel for one-time codes. False when that is not possible there.
    /// </summary>
    Task<bool> SendDirectAsync(string platform, ChatUser user, OutgoingMessage message, CancellationToken cancellationToken) => Task.FromResult(false);
}
