using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Aliases;

/// <summary>An optional parameter <c>{{name=default}}</c> of a format, with where it starts (1-based).</summary>
internal sealed record OptionalParameter(string Name, string Default, int Column);

/// <summary>
/// A format with its <c>{{…}}</c> parameters replaced by Python named groups, exactly as StackStorm's
/// <c>transform_format_string_into_regex</c> does it, plus a map from every character of the result back to the
/// format (so errors point at the right column).
/// </summary>
/// <param name="Pattern">The format as a Python regular expression, before the anchors are added.</param>
/// <param name="SourceIndex">For each character of <paramref name="Pattern"/>, its 0-based index in the format.</param>
/// <param name="Optionals">The <c>{{name=default}}</c> parameters, in format order.</param>
internal sealed record FormatTemplate(string Pattern, IReadOnlyList<int> SourceIndex, IReadOnlyList<OptionalParameter> Optionals)
{
    // A parameter's value: a quoted string (its quotes are left outside the group), a {...} blob, or anything
    // (lazily). Python group syntax on purpose: the result is read by PythonRegexTranslator like the rest of the
    // format. The whitespace that stood before the parameter is put back in front (StackStorm's "\1").
    private const string ValueGroupOpen = "[\"\\']?(?P<";
    private const string ValueGroupClose = ">(?:(?<=\\').+?(?=\\')|(?<=\").+?(?=\")|{.+?}|.+?))[\"\\']?";

    /// <summary>Formats are written by pack authors, not chat users; a second is generous for these two patterns.</summary>
    private static readonly TimeSpan TemplateTimeout = TimeSpan.FromSeconds(1);

    public static FormatTemplate Build(string format)
    {
        var optionals = new List<OptionalParameter>();
        var indexes = Enumerable.Range(0, format.Length).ToList();

        // Pass 1: {{ name = default }}. The whitespace before it moves inside the optional group, so a missing
        // optional parameter also drops its separating space.
        var (afterOptional, mapOptional) = Substitute(format, indexes, OptionalPattern(), m =>
        {
            var column = indexes[m.Groups["open"].Index] + 1;
            var value = m.Groups["dq"].Value + m.Groups["sq"].Value + m.Groups["json"].Value + m.Groups["plain"].Value;
            optionals.Add(new OptionalParameter(m.Groups["name"].Value, value, column));
            return "(?:" + m.Groups["ws"].Value + ValueGroupOpen + m.Groups["name"].Value + ValueGroupClose + ")?";
        });

        // Pass 2: {{ name }}, on the result of pass 1 (as StackStorm does).
        var (pattern, map) = Substitute(afterOptional, mapOptional, RequiredPattern(), m =>
            m.Groups["ws"].Value + ValueGroupOpen + m.Groups["name"].Value + ValueGroupClose);

        // StackStorm leaves a "{{" that is not a well-formed parameter in the regex as literal braces, which is
        // almost always a typo in a pack; refuse it so the author hears about it.
        var stray = pattern.IndexOf("{{", StringComparison.Ordinal);
        if (stray >= 0)
        {
            throw new FormatTemplateException(
                "'{{' does not start a valid parameter: write {{name}} or {{name=default}}, with no spaces in the name and the braces closed",
                map[stray]);
        }

        return new FormatTemplate(pattern, map, optionals);
    }

    private static (string Text, List<int> Map) Substitute(
        string input, List<int> inputMap, Regex pattern, Func<Match, string> replacement)
    {
        var text = new StringBuilder(input.Length + 64);
        var map = new List<int>(input.Length + 64);
        var last = 0;
        try
        {
            foreach (Match m in pattern.Matches(input))
            {
                text.Append(input, last, m.Index - last);
                map.AddRange(inputMap.Skip(last).Take(m.Index - last));
                var replaced = replacement(m);
                var at = inputMap[m.Groups["open"].Index];
                text.Append(replaced);
                map.AddRange(Enumerable.Repeat(at, replaced.Length));
                last = m.Index + m.Length;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            throw new FormatTemplateException("the format is too complex to read its parameters", 0);
        }

        text.Append(input, last, input.Length - last);
        map.AddRange(inputMap.Skip(last));
        return (text.ToString(), map);
    }

    // "\s" and "\S" written out as Python's (U+001C-U+001F are whitespace there).
    private static Regex OptionalPattern() => TemplatePatterns.Optional();

    private static Regex RequiredPattern() => TemplatePatterns.Required();
}

/// <summary>A parameter in a format that cannot be read; position is 0-based in the format.</summary>
internal sealed class FormatTemplateException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}

internal static partial class TemplatePatterns
{
    [GeneratedRegex(
        """(?<ws>[\s\x1C-\x1F]*)(?<open>\{\{)[\s\x1C-\x1F]*(?<name>[^\s\x1C-\x1F]+?)[\s\x1C-\x1F]*[\s\x1C-\x1F]*=[\s\x1C-\x1F]*(?:""|''|"(?<dq>.+?)"|'(?<sq>.+?)'|(?<json>\{.+?\})|(?<plain>.+?))[\s\x1C-\x1F]*\}\}""",
        RegexOptions.Singleline | RegexOptions.CultureInvariant,
        matchTimeoutMilliseconds: 1000)]
    public static partial Regex Optional();

    [GeneratedRegex(
        """(?<ws>[\s\x1C-\x1F]*)(?<open>\{\{)[\s\x1C-\x1F]*(?<name>[^\s\x1C-\x1F]+?)[\s\x1C-\x1F]*\}\}""",
        RegexOptions.Singleline | RegexOptions.CultureInvariant,
        matchTimeoutMilliseconds: 1000)]
    public static partial Regex Required();
}
