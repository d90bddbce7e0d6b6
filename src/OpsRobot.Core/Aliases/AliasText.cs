using System.Text;

namespace OpsRobot.Core.Aliases;

/// <summary>
/// Text helpers shared by the alias parser and the command router, so that both agree on what "whitespace" and
/// "the start of a command" mean.
/// </summary>
public static class AliasText
{
    /// <summary>
    /// Whitespace as StackStorm's Python regular expressions see it (<c>\s</c> on a <c>str</c>): everything
    /// <see cref="char.IsWhiteSpace(char)"/> accepts plus the four information separators U+001C to U+001F, which
    /// Python counts as whitespace and .NET does not.
    /// </summary>
    public static bool IsWhiteSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>
    /// The routing form of a command or of a format's literal start: trimmed, every run of whitespace (see
    /// <see cref="IsWhiteSpace(char)"/>) collapsed to one space, lower-cased with the invariant culture.
    /// <see cref="AliasFormat.LeadingLiteral"/> is already in this form.
    /// </summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// True when <paramref name="normalizedText"/> (already passed through <see cref="Normalize(string)"/>) begins
    /// with the whole words of <paramref name="leadingLiteral"/>: equal to it, or continuing with a space. An empty
    /// literal is a prefix of everything. This is the test the invariant on <see cref="AliasFormat.LeadingLiteral"/>
    /// guarantees for every text a format matches.
    /// </summary>
    public static bool StartsWithWords(string normalizedText, string leadingLiteral)
    {
        ArgumentNullException.ThrowIfNull(normalizedText);
        ArgumentNullException.ThrowIfNull(leadingLiteral);
        if (leadingLiteral.Length == 0)
        {
            return true;
        }

        return normalizedText.StartsWith(leadingLiteral, StringComparison.Ordinal)
            && (normalizedText.Length == leadingLiteral.Length || normalizedText[leadingLiteral.Length] == ' ');
    }

    /// <summary>Python's <c>str.strip()</c> emptiness test: nothing but <see cref="IsWhiteSpace(char)"/>.</summary>
    internal static bool IsBlank(string text)
    {
        foreach (var c in text)
        {
            if (!IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }
}
