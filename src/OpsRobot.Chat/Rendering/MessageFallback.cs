using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>
/// A rich message as plain Markdown, for chats without buttons or attachments (IRC, the web and shell chats): the
/// text, then each button as the command to type (<c>**Approve**: `!approve 12`</c>), then each attachment as a
/// link. Nothing the robot offers is lost on a plain chat; it is only less convenient.
/// </summary>
public static class MessageFallback
{
    public static string Markdown(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Buttons.Count == 0 && message.Attachments.Count == 0)
        {
            return message.Text;
        }

        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(message.Text))
        {
            parts.Add(message.Text.TrimEnd());
        }

        var buttons = message.Buttons.Where(b => !string.IsNullOrWhiteSpace(b.Command)).ToList();
        if (buttons.Count > 0)
        {
            parts.Add(TextLayout.ButtonHints(buttons));
        }

        parts.AddRange(message.Attachments.Where(a => TextLayout.IsSafeUrl(a.Url)).Select(TextLayout.AttachmentLink));
        return string.Join("\n\n", parts);
    }
}
