using System.Text.Json.Nodes;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>One Rocket.Chat message: its text (<c>msg</c>) and attachments.</summary>
public sealed record RocketChatPost(string Text, JsonArray? Attachments);

/// <summary>
/// The robot's message in Rocket.Chat's dialect: <c>*bold*</c>, <c>_italic_</c>, <c>~strike~</c>, fenced code
/// and lists; tables (which Rocket.Chat's message parser does not show) become aligned code blocks; images become
/// attachments; buttons become attachment actions that, when pressed, post their command into the room as the
/// pressing user (<c>msg_in_chat_window</c>), so the robot sees an ordinary command from that user.
/// </summary>
public static class RocketChatRenderer
{
    /// <summary>Rocket.Chat's default <c>Message_MaxAllowedSize</c>; servers may set another, hence an option.</summary>
    public const int DefaultMessageLimit = 5000;

    public static IReadOnlyList<RocketChatPost> Render(OutgoingMessage message, int limit)
    {
        ArgumentNullException.ThrowIfNull(message);
        var rendered = MarkdownRenderer.Render(message, tables: false, inline: InlineMarkdown.ToRocketChat);
        var attachments = new JsonArray();
        foreach (var attachment in message.Attachments.Where(a => TextLayout.IsSafeUrl(a.Url)))
        {
            if (attachment.IsImage)
            {
                attachments.Add(new JsonObject { ["title"] = attachment.Title, ["image_url"] = attachment.Url.AbsoluteUri });
            }
            else
            {
                rendered.Add(new RenderedBlock(TextLayout.AttachmentLink(attachment)));
            }
        }

        var buttons = message.Buttons.Where(b => !string.IsNullOrWhiteSpace(b.Command)).ToList();
        if (buttons.Count > 0)
        {
            var actions = new JsonArray();
            foreach (var b in buttons)
            {
                actions.Add(new JsonObject
                {
                    ["type"] = "button",
                    ["text"] = InlineMarkdown.ToPlain(b.Label),
                    ["msg"] = b.Command,
                    ["msg_in_chat_window"] = true,
                    ["msg_processing_type"] = "sendMessage",
                });
            }

            // The hint stays in the text too: mobile and older clients that do not show actions can still type it.
            attachments.Add(new JsonObject { ["button_alignment"] = "horizontal", ["actions"] = actions });
            rendered.Add(new RenderedBlock(InlineMarkdown.ToRocketChat(TextLayout.ButtonHints(buttons))));
        }

        var texts = MessageSplitter.Split(rendered.ToList(), limit).ToList();
        if (texts.Count == 0)
        {
            texts.Add(string.Empty);
        }

        return texts.Select((t, i) => new RocketChatPost(t, i == texts.Count - 1 && attachments.Count > 0 ? attachments : null)).ToList();
    }
}
