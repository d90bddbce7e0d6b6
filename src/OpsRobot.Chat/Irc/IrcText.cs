using System.Text;
using OpsRobot.Chat.Shell;

namespace OpsRobot.Chat.Irc;

/// <summary>
/// The robot's Markdown as IRC lines: tables and code blocks become plain lines (the terminal rendering suits
/// IRC's fixed-width clients too), every control character is removed so user text cannot inject a command, a
/// CTCP request or formatting, and lines are split to fit the byte limit without cutting a character in two.
/// </summary>
internal static class IrcText
{
    /// <summary>The CTCP delimiter (<c>\x01ACTION waves\x01</c>).</summary>
    public const char CtcpMarker = '\u0001';

    /// <summary>True for a CTCP request or reply (ACTION included): not chat, never a command.</summary>
    public static bool IsCtcp(string text) => text.Length > 0 && text[0] == CtcpMarker;

    /// <summary>Renders <paramref name="markdown"/> as lines of at most <paramref name="maxBytes"/> UTF-8 bytes each.</summary>
    public static List<string> ToLines(string markdown, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 4);

        // A bare CR ends a line for many servers: treat it as the line break it would become.
        var normalized = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var lines = new List<string>();
        foreach (var rendered in TerminalText.Render(normalized).Split('\n'))
        {
            var clean = StripControls(rendered).TrimEnd();
            if (clean.Length == 0)
            {
                continue; // IRC has no empty messages
            }

            SplitUtf8(clean, maxBytes, lines);
        }

        return lines;
    }

    /// <summary>
    /// Removes IRC formatting (bold, colour with its digits, italics, underline, reverse, reset, monospace,
    /// strike-through), the CTCP marker, NUL, CR, LF and every other control character; a tab becomes a space.
    /// Used on what the robot sends and on what it reads, so <c>\x02!ping\x02</c> is still a command.
    /// </summary>
    public static string StripControls(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(IsControl))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\t')
            {
                sb.Append(' ');
            }
            else if (c == '\u0003')
            {
                // ^C[fg[,bg]]: one or two digits each.
                i = SkipDigits(text, i + 1, 2) - 1;
                if (i + 2 < text.Length && text[i + 1] == ',' && char.IsAsciiDigit(text[i + 2]))
                {
                    i = SkipDigits(text, i + 2, 2) - 1;
                }
            }
            else if (c == '\u0004')
            {
                // ^D[RRGGBB[,RRGGBB]]: hexadecimal colour.
                i = SkipHex(text, i + 1) - 1;
                if (i + 2 < text.Length && text[i + 1] == ',' && char.IsAsciiHexDigit(text[i + 2]))
                {
                    i = SkipHex(text, i + 2) - 1;
                }
            }
            else if (!IsControl(c))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Cuts <paramref name="line"/> into pieces of at most <paramref name="maxBytes"/> UTF-8 bytes, on character boundaries.</summary>
    public static void SplitUtf8(string line, int maxBytes, List<string> into)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(into);
        var piece = new StringBuilder();
        var bytes = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (bytes + size > maxBytes && piece.Length > 0)
            {
                into.Add(piece.ToString());
                piece.Clear();
                bytes = 0;
            }

            piece.Append(rune.ToString());
            bytes += size;
        }

        if (piece.Length > 0)
        {
            into.Add(piece.ToString());
        }
    }

    // C0 controls, DEL and the C1 range; bidi overrides are left alone, they cannot bend the protocol.
    private static bool IsControl(char c) => c < ' ' || c is '\u007F' || c is >= '\u0080' and <= '\u009F';

    private static int SkipDigits(string text, int from, int most)
    {
        var i = from;
        while (i < text.Length && i - from < most && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        return i;
    }

    private static int SkipHex(string text, int from)
    {
        var i = from;
        while (i < text.Length && i - from < 6 && char.IsAsciiHexDigit(text[i]))
        {
            i++;
        }

        // A colour is exactly six digits; fewer are ordinary text.
        return i - from == 6 ? i : from;
    }
}
