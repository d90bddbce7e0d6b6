using System.Text;

namespace OpsRobot.Core.Text;

/// <summary>Small helpers to write the robot's Markdown replies safely: user text never breaks out of its span.</summary>
public static class Markdown
{
    /// <summary>An inline code span holding <paramref name="text"/> verbatim, whatever backticks it contains.</summary>
    public static string Code(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var longest = 0;
        var run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        var fence = new string('`', longest + 1);
        var pad = text.StartsWith('`') || text.EndsWith('`') ? " " : string.Empty;
        return fence + pad + OneLine(text) + pad + fence;
    }

    /// <summary>A fenced code block holding <paramref name="text"/> verbatim.</summary>
    public static string CodeBlock(string text, string language = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        var fence = "```";
        while (text.Contains(fence, StringComparison.Ordinal))
        {
            fence += "`";
        }

        return $"{fence}{language}\n{text.TrimEnd('\n')}\n{fence}";
    }

    /// <summary>A GitHub-style pipe table. Cells are escaped so that a pipe or newline in data cannot bend the table.</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        AppendRow(sb, header);
        sb.Append('|');
        foreach (var _ in header)
        {
            sb.Append(" --- |");
        }

        sb.Append('\n');
        foreach (var row in rows)
        {
            AppendRow(sb, row);
        }

        return sb.ToString().TrimEnd('\n');
    }

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> cells)
    {
        sb.Append('|');
        foreach (var cell in cells)
        {
            sb.Append(' ').Append(OneLine(cell.Replace("|", "\\|", StringComparison.Ordinal))).Append(" |");
        }

        sb.Append('\n');
    }

    /// <summary>Any line break (LF, CR, CRLF) becomes a space, so a value cannot end the line it sits in.</summary>
    private static string OneLine(string text) =>
        text.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ');
}
