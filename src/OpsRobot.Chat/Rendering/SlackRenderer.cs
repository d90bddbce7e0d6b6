using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>One Slack message: the mrkdwn fallback text (notifications, old clients) and its Block Kit blocks.</summary>
public sealed record SlackPost(string Text, JsonArray Blocks);

/// <summary>
/// The robot's message in Slack's dialect: mrkdwn in <c>section</c> blocks, tables as code blocks (mrkdwn has
/// none), images as <c>image</c> blocks, buttons in <c>actions</c> blocks whose value is the command they stand
/// for. Limits from Slack's Block Kit reference: 3,000 characters per section text, 50 blocks per message, 25
/// elements per actions block, 75 characters per button label, 2,000 per button value; a longer message is
/// split over several posts (code blocks cut and re-fenced, never broken).
/// </summary>
public static class SlackRenderer
{
    /// <summary>The most characters in one section's text (Block Kit's documented maximum).</summary>
    public const int SectionLimit = 3000;

    /// <summary>The most blocks in one message.</summary>
    public const int BlockLimit = 50;

    /// <summary>The most characters of <c>text</c> Slack keeps in one message.</summary>
    public const int TextLimit = 40000;

    public const int ButtonsPerActions = 25;
    public const int ButtonLabelLimit = 75;
    public const int ButtonValueLimit = 2000;

    /// <summary>The prefix of every button's <c>action_id</c>; interactions with other ids are not ours.</summary>
    public const string ActionIdPrefix = "opsrobot-";

    public static IReadOnlyList<SlackPost> Render(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var rendered = new List<RenderedBlock>();
        foreach (var block in MessageBlocks.Parse(message.Text))
        {
            rendered.Add(block switch
            {
                ParagraphBlock p => new RenderedBlock(InlineMarkdown.ToSlack(p.Markdown)),
                HeadingBlock h => new RenderedBlock("*" + InlineMarkdown.ToSlack(h.Markdown).Replace("*", string.Empty, StringComparison.Ordinal) + "*"),
                CodeBlock c => Code(c.Code),
                TableBlock t => Code(TextLayout.AlignedTable(t)),
                ListBlock l => new RenderedBlock(string.Join('\n', l.Items.Select((item, i) =>
                    (l.Ordered ? (i + 1).ToString(CultureInfo.InvariantCulture) + ". " : "• ") + InlineMarkdown.ToSlack(item).Replace("\n", "\n   ", StringComparison.Ordinal)))),
                _ => new RenderedBlock(string.Empty),
            });
        }

        var images = new List<ChatAttachment>();
        foreach (var attachment in message.Attachments.Where(a => TextLayout.IsSafeUrl(a.Url)))
        {
            if (attachment.IsImage)
            {
                images.Add(attachment);
            }
            else
            {
                rendered.Add(new RenderedBlock($"<{InlineMarkdown.EscapeSlack(attachment.Url.AbsoluteUri)}|{InlineMarkdown.EscapeSlack(attachment.Title).Replace("|", "¦", StringComparison.Ordinal)}>"));
            }
        }

        var buttons = message.Buttons.Where(b => b.Command.Length <= ButtonValueLimit && !string.IsNullOrWhiteSpace(b.Command)).ToList();
        var tooLong = message.Buttons.Where(b => !buttons.Contains(b)).ToList();
        if (tooLong.Count > 0)
        {
            rendered.Add(new RenderedBlock(InlineMarkdown.ToSlack(TextLayout.ButtonHints(tooLong))));
        }

        var sections = MessageSplitter.Split(rendered.Where(r => r.Text.Length > 0).ToList(), SectionLimit);
        var extras = new List<JsonNode>();
        extras.AddRange(images.Select(i => (JsonNode)new JsonObject
        {
            ["type"] = "image",
            ["image_url"] = i.Url.AbsoluteUri,
            ["alt_text"] = Truncate(string.IsNullOrWhiteSpace(i.Title) ? "image" : i.Title, 2000),
        }));
        for (var start = 0; start < buttons.Count; start += ButtonsPerActions)
        {
            var elements = new JsonArray();
            for (var i = start; i < Math.Min(start + ButtonsPerActions, buttons.Count); i++)
            {
                var b = buttons[i];
                var element = new JsonObject
                {
                    ["type"] = "button",
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Truncate(InlineMarkdown.ToPlain(b.Label), ButtonLabelLimit), ["emoji"] = true },
                    ["value"] = b.Command,
                    ["action_id"] = ActionIdPrefix + i.ToString(CultureInfo.InvariantCulture),
                };
                if (b.Style != ChatButtonStyle.Default)
                {
                    element["style"] = b.Style == ChatButtonStyle.Primary ? "primary" : "danger";
                }

                elements.Add(element);
            }

            extras.Add(new JsonObject { ["type"] = "actions", ["elements"] = elements });
        }

        var posts = new List<SlackPost>();
        var blocks = new JsonArray();
        var text = new List<string>();

        void Flush()
        {
            if (blocks.Count > 0)
            {
                var fallback = text.Count > 0 ? string.Join("\n\n", text) : InlineMarkdown.ToSlack(buttons.Count > 0 ? TextLayout.ButtonHints(buttons) : "(image)");
                posts.Add(new SlackPost(Truncate(fallback, TextLimit), blocks));
                blocks = [];
                text.Clear();
            }
        }

        foreach (var section in sections)
        {
            if (blocks.Count >= BlockLimit || text.Sum(t => t.Length + 2) + section.Length > TextLimit)
            {
                Flush();
            }

            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = section } });
            text.Add(section);
        }

        foreach (var extra in extras)
        {
            if (blocks.Count >= BlockLimit)
            {
                Flush();
            }

            blocks.Add(extra);
        }

        Flush();
        return posts;
    }

    private static RenderedBlock Code(string code)
    {
        // mrkdwn has one fence (```) and no way to escape it inside a block: a run of three backticks in the code
        // gets zero-width joiners so it shows, but cannot close the block early.
        var safe = InlineMarkdown.EscapeSlack(code).Replace("```", "`\u200B`\u200B`", StringComparison.Ordinal);
        return RenderedBlock.Code("```", safe, "```");
    }

    private static string Truncate(string text, int limit) => text.Length <= limit ? text : text[..(limit - 1)] + "…";
}
