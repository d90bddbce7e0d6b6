using System.Globalization;
using System.Text;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Rendering;

/// <summary>Shared pieces of graceful degradation: tables as aligned text, buttons as commands to type.</summary>
public static class TextLayout
{
    /// <summary>A table as aligned columns of plain text (for a code block), header underlined with dashes.</summary>
    public static string AlignedTable(TableBlock table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var columns = Math.Max(table.Header.Count, table.Rows.Count == 0 ? 0 : table.Rows.Max(r => r.Count));
        var all = new List<IReadOnlyList<string>> { table.Header };
        all.AddRange(table.Rows);
        var plain = all.Select(r => Enumerable.Range(0, columns).Select(c => c < r.Count ? InlineMarkdown.ToPlain(r[c]).Replace('\n', ' ') : string.Empty).ToList()).ToList();
        var widths = Enumerable.Range(0, columns).Select(c => plain.Max(r => Width(r[c]))).ToList();
        var sb = new StringBuilder();
        for (var r = 0; r < plain.Count; r++)
        {
            AppendRow(sb, plain[r], widths);
            if (r == 0)
            {
                AppendRow(sb, widths.Select(w => new string('-', w)).ToList(), widths);
            }
        }

        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>
    /// The Markdown hint that stands in for buttons a platform cannot show: each label with the command to type,
    /// e.g. <c>**Approve**: `!approve 12`</c>.
    /// </summary>
    public static string ButtonHints(IReadOnlyList<ChatButton> buttons)
    {
        ArgumentNullException.ThrowIfNull(buttons);
        return string.Join(" · ", buttons.Select(b => $"**{EscapeInline(b.Label)}**: {Core.Text.Markdown.Code(b.Command)}"));
    }

    /// <summary>Markdown link for a non-image attachment (or an image a platform cannot show).</summary>
    public static string AttachmentLink(ChatAttachment attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return $"[{EscapeInline(attachment.Title).Replace("]", "\\]", StringComparison.Ordinal)}]({attachment.Url.AbsoluteUri})";
    }

    /// <summary>Only http and https addresses are shown; anything else (javascript:, file:) is dropped.</summary>
    public static bool IsSafeUrl(Uri url) => url is { IsAbsoluteUri: true } && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp);

    /// <summary>The longest backtick run plus one, so a fence survives code that contains fences.</summary>
    public static string FenceFor(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var fence = "```";
        while (code.Contains(fence, StringComparison.Ordinal))
        {
            fence += "`";
        }

        return fence;
    }

    private static string EscapeInline(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal).Replace('\n', ' ');

    private static int Width(string s) => new StringInfo(s).LengthInTextElements;

    private static void AppendRow(StringBuilder sb, List<string> cells, List<int> widths)
    {
        for (var c = 0; c < cells.Count; c++)
        {
            sb.Append(cells[c]);
            if (c < cells.Count - 1)
            {
                sb.Append(' ', widths[c] - Width(cells[c]) + 2);
            }
        }

        sb.Append('\n');
    }
}
