using System.Globalization;
using System.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Checks every value that goes into a line of Nagios's command file. Nagios splits a command at <c>;</c> and
/// ends it at a newline, so a value holding either could add fields or a whole second command: such values are
/// refused with the reason, never escaped or trimmed into something the sender did not write.
/// </summary>
public static class NagiosInput
{
    /// <summary>The longest host name accepted (Nagios's own limit is larger; no real host name comes near).</summary>
    public const int MaxNameLength = 255;

    /// <summary>The longest author or comment accepted.</summary>
    public const int MaxCommentLength = 500;

    /// <summary>
    /// A host name: ASCII letters, digits and <c>. _ - : @</c>, starting with a letter or digit. Stricter than
    /// Nagios (which allows more than it should in object names): a look-alike letter from another alphabet or a
    /// shell or field separator never reaches the command file.
    /// </summary>
    public static string Host(string? value)
    {
        var name = Required(value, "host name");
        if (name.Length > MaxNameLength)
        {
            throw new NagiosException($"A host name has at most {MaxNameLength} characters.");
        }

        if (!IsAsciiLetterOrDigit(name[0]) || name.Any(c => !IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or ':' or '@')))
        {
            throw new NagiosException($"'{Shown(name)}' is not a host name Nagios can have: use only letters, digits and . _ - : @ (Nagios reads ';' as a field separator and a newline as the end of a command, so nothing else is passed on).");
        }

        return name;
    }

    /// <summary>
    /// A service description: ASCII letters, digits, single spaces and <c>. _ - : @ / # +</c>, starting with a
    /// letter or digit (Nagios's default <c>illegal_object_name_chars</c> forbid most of the rest anyway).
    /// </summary>
    public static string Service(string? value)
    {
        var name = Required(value, "service name");
        if (name.Length > MaxNameLength)
        {
            throw new NagiosException($"A service name has at most {MaxNameLength} characters.");
        }

        if (!IsAsciiLetterOrDigit(name[0])
            || name.Any(c => !IsAsciiLetterOrDigit(c) && c is not (' ' or '.' or '_' or '-' or ':' or '@' or '/' or '#' or '+'))
            || name.Contains("  ", StringComparison.Ordinal)
            || name[^1] == ' ')
        {
            throw new NagiosException($"'{Shown(name)}' is not a service name Nagios can have: use only letters, digits, single spaces and . _ - : @ / # + (Nagios reads ';' as a field separator and a newline as the end of a command, so nothing else is passed on).");
        }

        return name;
    }

    /// <summary>Who did it, as Nagios records it: any printable text without <c>;</c>, up to 64 characters.</summary>
    public static string Author(string? value)
    {
        var author = Text(value, "author", 64);
        return author;
    }

    /// <summary>A comment: any printable text without <c>;</c> and without line breaks, up to <see cref="MaxCommentLength"/> characters.</summary>
    public static string Comment(string? value) => Text(value, "comment", MaxCommentLength);

    /// <summary>A downtime id as Nagios numbers them: a positive whole number.</summary>
    public static long DowntimeId(string? value)
    {
        var text = Required(value, "downtime id").TrimStart('#');
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
        {
            throw new NagiosException($"'{Shown(text)}' is not a downtime id: Nagios numbers downtimes 1, 2, 3… (`!nagios status HOST` lists them).");
        }

        return id;
    }

    private static string Text(string? value, string what, int maxLength)
    {
        var text = Required(value, what);
        if (text.Length > maxLength)
        {
            throw new NagiosException($"The {what} has {text.Length} characters; Nagios gets at most {maxLength}.");
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value == ';')
            {
                throw new NagiosException($"The {what} may not contain ';': Nagios reads it as a field separator. Use ',' instead.");
            }

            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
            {
                throw new NagiosException($"The {what} may not contain line breaks, tabs or other control characters (U+{rune.Value:X4}): Nagios ends a command at a newline.");
            }
        }

        return text;
    }

    private static string Required(string? value, string what)
    {
        var text = value?.Trim(' ');
        if (string.IsNullOrEmpty(text))
        {
            throw new NagiosException($"Give a {what}.");
        }

        return text;
    }

    private static bool IsAsciiLetterOrDigit(char c) => char.IsAsciiLetterOrDigit(c);

    /// <summary>A refused value as it can be shown back safely: control characters as <c>?</c>, cut at 80 characters.</summary>
    internal static string Shown(string value)
    {
        var cut = value.Length > 80 ? value[..80] + "…" : value;
        return string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) || char.GetUnicodeCategory(source[i]) == UnicodeCategory.Format ? '?' : source[i];
            }
        });
    }
}
