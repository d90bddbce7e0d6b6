using System.Globalization;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>
/// Renders blocks back into CommonMark-style Markdown for platforms that speak it (Mattermost, Rocket.Chat with
/// its own emphasis markers): tables kept as tables or turned into aligned code blocks, code re-fenced with a
/// fence longer than any backtick run inside it.
/// </summary>
public static class MarkdownRenderer
{
    /// <summary>The blocks of <paramref name="message"/>'s text, rendered for a platform.</summary>
    /// <param name="message">What the robot says.</param>
    /// <param name="tables">True when the platform shows pipe tables; otherwise they become code blocks.</param>
    /// <param name="inline">Converts inline Markdown into the platform's markers.</param>
    public static IList<RenderedBlock> Render(OutgoingMessage message, bool tables, Func<string, string> inline)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(inline);
        var rendered = new List<RenderedBlock>();
        foreach (var block in MessageBlocks.Parse(message.Text))
        {
            rendered.Add(block switch
            {
                ParagraphBlock p => new RenderedBlock(inline(p.Markdown)),
                HeadingBlock h when tables => new RenderedBlock(new string('#', h.Level) + " " + inline(h.Markdown)),
                HeadingBlock h => new RenderedBlock("*" + inline(h.Markdown) + "*"),
                CodeBlock c => Fenced(c.Code, c.Language),
                TableBlock t when tables => new RenderedBlock(Core.Text.Markdown.Table(t.Header, t.Rows)),
                TableBlock t => Fenced(TextLayout.AlignedTable(t), string.Empty),
                ListBlock l => new RenderedBlock(string.Join('\n', l.Items.Select((item, i) =>
                {
                    var marker = l.Ordered ? (i + 1).ToString(CultureInfo.InvariantCulture) + ". " : "- ";
                    return marker + inline(item).Replace("\n", "\n" + new string(' ', marker.Length), StringComparison.Ordinal);
                }))),
                _ => new RenderedBlock(string.Empty),
            });
        }

        return rendered.Where(r => r.Text.Length > 0).ToList();
    }

    /// <summary>A fenced code block whose fence cannot be closed by the code inside it.</summary>
    public static RenderedBlock Fenced(string code, string language)
    {
        ArgumentNullException.ThrowIfNull(code);
        var fence = TextLayout.FenceFor(code);
        return RenderedBlock.Code(fence + OneLine(language ?? string.Empty), code, fence);
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ').Replace("`", string.Empty, StringComparison.Ordinal);
}
