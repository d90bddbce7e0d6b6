using System.Text.RegularExpressions;

namespace OpsRobot.Core.Aliases;

/// <summary>
/// The <c>key=value</c> pairs a user may add after any command (StackStorm's <c>match_kv_pairs_at_end</c>): a key
/// is a run of non-whitespace before <c>=</c>; a value is <c>""</c>, <c>''</c>, a double- or single-quoted string
/// (quotes removed, may contain spaces), a <c>{…}</c> blob up to the first <c>}</c> that lets the rest parse, or one
/// word. Only the longest run of pairs that reaches the end of the text counts.
/// </summary>
internal static class TrailingPairs
{
    /// <summary>Chat text is hostile; both patterns are linear or close to it, so this is only a backstop.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    private const string S = @"[\s\x1C-\x1F]";
    private const string NotS = @"[^\s\x1C-\x1F]";

    // StackStorm finds the run with ".*?((PAIR\s*)*)$" on a backtracking engine, which is exponential in the
    // number of pairs when they are separated by several spaces. The run's start is the leftmost position from
    // which "(PAIR\s*)+" reaches the end, a question about a regular language, so the linear-time engine answers
    // it; the pairs are then read one by one with StackStorm's own pair pattern.
    private static readonly Regex RunFinder = new(
        $$"""(?:(?:^|{{S}}+){{S}}*{{NotS}}+?{{S}}*=(?:""|''|".+?"|'.+?'|\{.+?\}|{{NotS}}+){{S}}*)+\z""",
        RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant,
        Timeout);

    private static readonly Regex Pair = new(
        $$"""(?:^|{{S}}+){{S}}*(?<key>{{NotS}}+?){{S}}*=(?:""|''|"(?<dq>.+?)"|'(?<sq>.+?)'|(?<json>\{.+?\})|(?<word>{{NotS}}+))""",
        RegexOptions.Singleline | RegexOptions.CultureInvariant,
        Timeout);

    /// <summary>Where the trailing pairs start: <c>text.Length</c> when there are none.</summary>
    public static int FindStart(string text)
    {
        var run = RunFinder.Match(text);
        return run.Success ? run.Index : text.Length;
    }

    /// <summary>The pairs in <paramref name="run"/> (the text from <see cref="FindStart"/> on), in order; a key may repeat.</summary>
    public static List<KeyValuePair<string, string>> Read(string run)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (Match m in Pair.Matches(run))
        {
            var value = m.Groups["dq"].Value + m.Groups["sq"].Value + m.Groups["json"].Value + m.Groups["word"].Value;
            pairs.Add(new KeyValuePair<string, string>(m.Groups["key"].Value, value));
        }

        return pairs;
    }
}
