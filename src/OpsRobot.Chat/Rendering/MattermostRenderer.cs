using System.Text.Json.Nodes;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>One Mattermost post: its Markdown message and the message attachments in <c>props.attachments</c>.</summary>
public sealed record MattermostPost(string Message, JsonArray? Attachments);

/// <summary>
/// The robot's message in Mattermost's dialect: Mattermost renders CommonMark with GitHub tables, so the text
/// keeps its structure; images become attachments with <c>image_url</c>; buttons become interactive message
/// buttons whose integration calls OpsRobot back, or (with no callback address configured) typed-command hints.
/// Posts longer than the server's limit (16,383 characters by default) are split, code blocks re-fenced.
/// </summary>
public static class MattermostRenderer
{
    /// <summary>Mattermost's default maximum post length (<c>MaxPostSize</c>, in runes; counted here in UTF-16 units, which is never fewer).</summary>
    public const int DefaultPostLimit = 16383;

    /// <summary>Renders <paramref name="message"/>.</summary>
    /// <param name="message">What the robot says.</param>
    /// <param name="limit">The longest post.</param>
    /// <param name="integration">
    /// Makes a button's integration (<c>{"url", "context"}</c>) for a command, or null when the robot has no
    /// address Mattermost can call back; buttons are then shown as commands to type.
    /// </param>
    public static IReadOnlyList<MattermostPost> Render(OutgoingMessage message, int limit, Func<ChatButton, JsonObject>? integration)
    {
        ArgumentNullException.ThrowIfNull(message);
        var rendered = MarkdownRenderer.Render(message, tables: true, inline: s => s);
        var attachments = new JsonArray();
        foreach (var attachment in message.Attachments.Where(a => TextLayout.IsSafeUrl(a.Url)))
        {
            if (attachment.IsImage)
            {
                attachments.Add(new JsonObject { ["fallback"] = attachment.Title, ["title"] = attachment.Title, ["image_url"] = attachment.Url.AbsoluteUri });
            }
            else
            {
                rendered.Add(new RenderedBlock(TextLayout.AttachmentLink(attachment)));
            }
        }

        var buttons = message.Buttons.Where(b => !string.IsNullOrWhiteSpace(b.Command)).ToList();
        if (buttons.Count > 0 && integration is not null)
        {
            var actions = new JsonArray();
            for (var i = 0; i < buttons.Count; i++)
            {
                actions.Add(new JsonObject
                {
                    // Mattermost action ids must be alphanumeric.
                    ["id"] = "opsrobot" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["name"] = InlineMarkdown.ToPlain(buttons[i].Label),
                    ["type"] = "button",
                    ["style"] = buttons[i].Style switch { ChatButtonStyle.Primary => "primary", ChatButtonStyle.Danger => "danger", _ => "default" },
                    ["integration"] = integration(buttons[i]),
                });
            }

            attachments.Add(new JsonObject { ["fallback"] = TextLayout.ButtonHints(buttons), ["actions"] = actions });
        }
        else if (buttons.Count > 0)
        {
            rendered.Add(new RenderedBlock(TextLayout.ButtonHints(buttons)));
        }

        var texts = MessageSplitter.Split(rendered.ToList(), limit).ToList();
        if (texts.Count == 0)
        {
            texts.Add(string.Empty);
        }

        return texts.Select((t, i) => new MattermostPost(t, i == texts.Count - 1 && attachments.Count > 0 ? attachments : null)).ToList();
    }
}
