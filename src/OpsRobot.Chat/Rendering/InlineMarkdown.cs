using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Chat.Rendering;

/// <summary>
/// Inline Markdown (bold, italics, strike-through, links, code spans) in the dialects of platforms whose
/// markup is not CommonMark. Code spans are copied verbatim; only the text between them is converted.
/// </summary>
public static partial class InlineMarkdown
{
    /// <summary>
    /// Slack's mrkdwn: <c>*bold*</c>, <c>_italic_</c>, <c>~strike~</c>, <c>&lt;url|text&gt;</c>. The three characters
    /// Slack reserves (<c>&amp; &lt; &gt;</c>) are escaped everywhere, code included, so user text cannot forge a
    /// mention (<c>&lt;!channel&gt;</c>) or a link.
    /// </summary>
    public static string ToSlack(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return Convert(markdown, EscapeSlack, text =>
        {
            text = LinkPattern().Replace(text, m => $"<{m.Groups["url"].Value}|{m.Groups["text"].Value.Replace("|", "¦", StringComparison.Ordinal)}>");
            return Emphasis(text);
        });
    }

    /// <summary>Rocket.Chat's markup: <c>*bold*</c>, <c>_italic_</c>, <c>~strike~</c>; links stay <c>[text](url)</c>.</summary>
    public static string ToRocketChat(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return Convert(markdown, s => s, Emphasis);
    }

    /// <summary>Escapes Slack's reserved characters (<c>&amp; &lt; &gt;</c>), as its documentation asks of every text field.</summary>
    public static string EscapeSlack(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);
    }

    /// <summary>Removes the inline markers, for plain fields (button labels, notification text).</summary>
    public static string ToPlain(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return Convert(markdown, s => s, text =>
        {
            text = LinkPattern().Replace(text, "${text} (${url})");
            text = BoldPattern().Replace(text, "${t}");
            text = ItalicPattern().Replace(text, "${t}");
            return text.Replace("\\*", "*", StringComparison.Ordinal).Replace("\\_", "_", StringComparison.Ordinal).Replace("\\|", "|", StringComparison.Ordinal);
        });
    }

    /// <summary>Splits on backtick code spans: <paramref name="code"/> maps their text, <paramref name="prose"/> the rest.</summary>
    private static string Convert(string markdown, Func<string, string> code, Func<string, string> prose)
    {
        var sb = new StringBuilder(markdown.Length + 16);
        var i = 0;
        while (i < markdown.Length)
        {
            var start = markdown.IndexOf('`', i);
            if (start < 0)
            {
                sb.Append(prose(code(markdown[i..])));
                break;
            }

            var run = 0;
            while (start + run < markdown.Length && markdown[start + run] == '`')
            {
                run++;
            }

            var fence = new string('`', run);
            var end = markdown.IndexOf(fence, start + run, StringComparison.Ordinal);
            if (end < 0)
            {
                sb.Append(prose(code(markdown[i..])));
                break;
            }

            sb.Append(prose(code(markdown[i..start])));
            sb.Append(code(markdown[start..(end + run)]));
            i = end + run;
        }

        return sb.ToString();
    }

    private static string Emphasis(string text)
    {
        // Bold first, through a placeholder, so its asterisks are not read as italics afterwards.
        text = BoldPattern().Replace(text, "\u0001${t}\u0001");
        text = ItalicPattern().Replace(text, "_${t}_");
        text = StrikePattern().Replace(text, "~${t}~");
        return text.Replace('\u0001', '*').Replace("\\|", "|", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\[(?<text>[^\]\n]{1,500})\]\((?<url>(?:https?|mailto):[^\s)<>]{1,2000})\)", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"\*\*(?=\S)(?<t>.+?)(?<=\S)\*\*", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BoldPattern();

    [GeneratedRegex(@"(?<![\*\w\\])\*(?=[^\s\*])(?<t>[^\*\n]+?)(?<=\S)\*(?![\*\w])", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ItalicPattern();

    [GeneratedRegex(@"~~(?=\S)(?<t>.+?)(?<=\S)~~", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StrikePattern();
}
