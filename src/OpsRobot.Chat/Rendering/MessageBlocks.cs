using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Chat.Rendering;

/// <summary>One block of the robot's Markdown: what each platform's renderer turns into its own dialect.</summary>
public abstract record MessageBlock;

/// <summary>Ordinary text (inline Markdown: bold, code spans, links), one or more lines.</summary>
public sealed record ParagraphBlock(string Markdown) : MessageBlock;

/// <summary>A heading (<c># Title</c>); platforms without headings show it bold.</summary>
public sealed record HeadingBlock(int Level, string Markdown) : MessageBlock;

/// <summary>A fenced code block, shown verbatim in a fixed-width font.</summary>
public sealed record CodeBlock(string Language, string Code) : MessageBlock;

/// <summary>A pipe table; cells are inline Markdown with <c>\|</c> already unescaped.</summary>
public sealed record TableBlock(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : MessageBlock;

/// <summary>A bulleted or numbered list; an item may span lines (its continuation lines, unindented).</summary>
public sealed record ListBlock(bool Ordered, IReadOnlyList<string> Items) : MessageBlock;

/// <summary>
/// Reads the robot's Markdown into blocks: fenced code (<c>```</c> or <c>~~~</c>), pipe tables (with their
/// <c>| --- |</c> delimiter row), lists, headings and paragraphs. It is deliberately small: the robot writes a
/// known subset (see <see cref="Core.Text.Markdown"/>), and text from users that ends up in a reply is kept as
/// text rather than guessed at. An unterminated fence runs to the end, as CommonMark says.
/// </summary>
public static partial class MessageBlocks
{
    public static IReadOnlyList<MessageBlock> Parse(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var blocks = new List<MessageBlock>();
        var paragraph = new List<string>();

        void EndParagraph()
        {
            if (paragraph.Count > 0)
            {
                blocks.Add(new ParagraphBlock(string.Join('\n', paragraph)));
                paragraph.Clear();
            }
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0)
            {
                EndParagraph();
                continue;
            }

            var fence = FenceOf(trimmed);
            if (fence is not null)
            {
                EndParagraph();
                var language = trimmed[fence.Length..].Trim();
                var code = new List<string>();
                i++;
                while (i < lines.Length && !IsClosingFence(lines[i], fence))
                {
                    code.Add(lines[i]);
                    i++;
                }

                blocks.Add(new CodeBlock(language, string.Join('\n', code)));
                continue;
            }

            if (trimmed.StartsWith('|') && i + 1 < lines.Length && IsDelimiterRow(lines[i + 1]))
            {
                EndParagraph();
                var header = Cells(trimmed);
                var rows = new List<IReadOnlyList<string>>();
                i += 2;
                while (i < lines.Length && lines[i].TrimStart().StartsWith('|'))
                {
                    rows.Add(Cells(lines[i].Trim()));
                    i++;
                }

                i--;
                blocks.Add(new TableBlock(header, rows));
                continue;
            }

            var heading = HeadingPattern().Match(line);
            if (heading.Success)
            {
                EndParagraph();
                blocks.Add(new HeadingBlock(heading.Groups["level"].Length, heading.Groups["text"].Value.Trim()));
                continue;
            }

            var item = ListItemPattern().Match(line);
            if (item.Success)
            {
                EndParagraph();
                var ordered = char.IsAsciiDigit(item.Groups["marker"].Value[0]);
                var items = new List<string>();
                var current = new StringBuilder(item.Groups["text"].Value);
                i++;
                while (i < lines.Length)
                {
                    var next = ListItemPattern().Match(lines[i]);
                    if (next.Success && char.IsAsciiDigit(next.Groups["marker"].Value[0]) == ordered)
                    {
                        items.Add(current.ToString());
                        current.Clear().Append(next.Groups["text"].Value);
                    }
                    else if (lines[i].Length > 0 && char.IsWhiteSpace(lines[i][0]) && lines[i].Trim().Length > 0)
                    {
                        current.Append('\n').Append(lines[i].Trim());
                    }
                    else
                    {
                        break;
                    }

                    i++;
                }

                items.Add(current.ToString());
                i--;
                blocks.Add(new ListBlock(ordered, items));
                continue;
            }

            paragraph.Add(line.TrimEnd());
        }

        EndParagraph();
        return blocks;
    }

    /// <summary>The cells of a table row, split on unescaped pipes, trimmed, with <c>\|</c> made a pipe again.</summary>
    internal static List<string> Cells(string row)
    {
        var body = row.Trim();
        if (body.StartsWith('|'))
        {
            body = body[1..];
        }

        if (body.EndsWith('|') && !body.EndsWith("\\|", StringComparison.Ordinal))
        {
            body = body[..^1];
        }

        var cells = new List<string>();
        var cell = new StringBuilder();
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '\\' && i + 1 < body.Length && body[i + 1] == '|')
            {
                cell.Append('|');
                i++;
            }
            else if (body[i] == '|')
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else
            {
                cell.Append(body[i]);
            }
        }

        cells.Add(cell.ToString().Trim());
        return cells;
    }

    private static string? FenceOf(string trimmed)
    {
        foreach (var c in "`~")
        {
            var n = 0;
            while (n < trimmed.Length && trimmed[n] == c)
            {
                n++;
            }

            // A backtick fence's info string may not contain backticks (CommonMark), else it is inline code.
            if (n >= 3 && (c == '~' || !trimmed[n..].Contains('`', StringComparison.Ordinal)))
            {
                return trimmed[..n];
            }
        }

        return null;
    }

    private static bool IsClosingFence(string line, string fence)
    {
        var t = line.Trim();
        return t.Length >= fence.Length && t.All(c => c == fence[0]);
    }

    private static bool IsDelimiterRow(string line) => DelimiterPattern().IsMatch(line);

    [GeneratedRegex(@"^\s*\|?(\s*:?-{3,}:?\s*\|)*\s*:?-{3,}:?\s*\|?\s*$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DelimiterPattern();

    [GeneratedRegex(@"^(?<level>#{1,6})\s+(?<text>.*)$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"^\s{0,3}(?<marker>[-*+]|\d{1,9}[.)])\s+(?<text>.*)$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ListItemPattern();
}
