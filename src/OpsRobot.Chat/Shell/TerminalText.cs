using System.Text;

namespace OpsRobot.Chat.Shell;

/// <summary>
/// Turns the robot's Markdown into plain terminal text: tables aligned in columns, code fences dropped, emphasis
/// markers removed. Inline code keeps its backticks, which read well in a terminal and keep commands recognisable.
/// </summary>
public static class TerminalText
{
    public static string Render(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var output = new StringBuilder();
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                output.Append("  ").Append(line).Append('\n');
                continue;
            }

            if (IsTableRow(line))
            {
                var table = new List<string>();
                while (i < lines.Length && IsTableRow(lines[i]))
                {
                    table.Add(lines[i]);
                    i++;
                }

                i--;
                RenderTable(table, output);
                continue;
            }

            output.Append(Inline(line)).Append('\n');
        }

        return output.ToString().TrimEnd('\n');
    }

    private static bool IsTableRow(string line) => line.TrimStart().StartsWith('|');

    private static string Inline(string line) => StripBold(line)
        .Replace("\\|", "|", StringComparison.Ordinal)
        .Replace("\\*", "*", StringComparison.Ordinal)
        .Replace("\\_", "_", StringComparison.Ordinal)
        .Replace("\\`", "`", StringComparison.Ordinal);

    /// <summary>Removes <c>**</c> only where it pairs up as bold, outside code spans: <c>2**10</c> and <c>`a**`</c> stay.</summary>
    private static string StripBold(string line)
    {
        if (!line.Contains("**", StringComparison.Ordinal))
        {
            return line;
        }

        // Positions of ** outside backtick code spans.
        var marks = new List<int>();
        var inCode = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++; // an escaped character is literal
            }
            else if (line[i] == '`')
            {
                inCode = !inCode;
            }
            else if (!inCode && i + 1 < line.Length && line[i] == '*' && line[i + 1] == '*')
            {
                marks.Add(i);
                i++;
            }
        }

        var remove = new HashSet<int>();
        for (var m = 0; m + 1 < marks.Count; m += 2)
        {
            var open = marks[m];
            var close = marks[m + 1];
            // Bold opens before a non-space and closes after one, as Markdown requires.
            if (open + 2 < line.Length && !char.IsWhiteSpace(line[open + 2]) && close > open + 2 && !char.IsWhiteSpace(line[close - 1]))
            {
                remove.Add(open);
                remove.Add(close);
            }
        }

        if (remove.Count == 0)
        {
            return line;
        }

        var sb = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (remove.Contains(i))
            {
                i++;
                continue;
            }

            sb.Append(line[i]);
        }

        return sb.ToString();
    }

    private static void RenderTable(List<string> rows, StringBuilder output)
    {
        var cells = new List<string[]>();
        foreach (var row in rows)
        {
            var parts = SplitRow(row);
            if (parts.All(p => p.Length > 0 && p.All(c => c is '-' or ':' or ' ')))
            {
                continue; // the |---| separator
            }

            cells.Add(parts);
        }

        if (cells.Count == 0)
        {
            return;
        }

        var columns = cells.Max(c => c.Length);
        var widths = new int[columns];
        foreach (var row in cells)
        {
            for (var c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        for (var r = 0; r < cells.Count; r++)
        {
            var row = cells[r];
            var line = new StringBuilder();
            for (var c = 0; c < columns; c++)
            {
                var cell = c < row.Length ? row[c] : string.Empty;
                line.Append(c == columns - 1 ? cell : cell.PadRight(widths[c] + 2));
            }

            output.Append(line.ToString().TrimEnd()).Append('\n');
            if (r == 0)
            {
                output.Append(new string('-', Math.Min(widths.Sum() + (2 * (columns - 1)), 120))).Append('\n');
            }
        }
    }

    private static string[] SplitRow(string row)
    {
        var cells = new List<string>();
        var current = new StringBuilder();
        var trimmed = row.Trim();
        for (var i = 1; i < trimmed.Length; i++)
        {
            var c = trimmed[i];
            if (c == '\\' && i + 1 < trimmed.Length && trimmed[i + 1] == '|')
            {
                current.Append('|');
                i++;
            }
            else if (c == '|')
            {
                cells.Add(Inline(current.ToString().Trim()));
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.ToString().Trim().Length > 0)
        {
            cells.Add(Inline(current.ToString().Trim()));
        }

        return [.. cells];
    }
}
