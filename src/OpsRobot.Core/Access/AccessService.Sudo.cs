using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;

namespace OpsRobot.Core.Access;

public sealed partial class AccessService
{
    /// <summary>
    /// Runs the command a confirmed sudo request was waiting with: in the room and thread it was typed in, as the
    /// requester's identity there, with sudo, through the same dispatch (and so the same checks and audit) as any chat
    /// line. Both ways of confirming end here: the code said in chat (<c>sudo confirm</c>) and the web console.
    /// </summary>
    /// <param name="pending">The request, as <see cref="ConfirmElevationAsync"/> or <see cref="ConfirmElevationFromConsoleAsync"/> returned it.</param>
    /// <param name="requester">
    /// A message from the requester on the request's platform: its sender (and <see cref="IncomingMessage.AuthenticatedUserId"/>)
    /// say who runs the command; its room, thread and text are replaced by the request's.
    /// </param>
    /// <param name="replyToCaller">
    /// True when the caller answers in the request's room itself (a confirmation said in that room): the command's
    /// reply is returned for the caller to send with its own words. False: the reply is sent to the request's room
    /// through <paramref name="sender"/> and null is returned.
    /// </param>
    /// <param name="robot">The robot that dispatches the command.</param>
    /// <param name="sender">Sends the reply to the request's room when the caller does not.</param>
    /// <param name="cancellationToken">Cancels the dispatch and the sending.</param>
    public async Task<OutgoingMessage?> RunConfirmedElevationAsync(
        PendingElevation pending, IncomingMessage requester, bool replyToCaller, Robot robot, IChatReplySender sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(requester);
        ArgumentNullException.ThrowIfNull(robot);
        ArgumentNullException.ThrowIfNull(sender);
        if (!string.Equals(requester.Platform, pending.Platform, StringComparison.Ordinal))
        {
            // An identity on another platform is another sender: the command must run as the one who typed it.
            throw new ArgumentException($"Sudo request #{pending.Id} was made on {pending.Platform}, not {requester.Platform}.", nameof(requester));
        }

        var room = new ChatRoom(pending.RoomId, pending.RoomName, pending.RoomIsDirect);
        var original = requester with { Room = room, Text = pending.Command, ThreadId = pending.ThreadId };
        var there = await ForChatAsync(original, cancellationToken).ConfigureAwait(false);
        var reply = await robot.DispatchAsync(original, pending.Command, there, sudo: true, cancellationToken).ConfigureAwait(false);
        if (replyToCaller || reply is null)
        {
            return reply;
        }

        if (reply.Text.Length > 0)
        {
            await sender.SendAsync(pending.Platform, room, reply with { ThreadId = pending.ThreadId }, cancellationToken).ConfigureAwait(false);
        }

        reply.Delivered?.Invoke();
        return null;
    }
}
