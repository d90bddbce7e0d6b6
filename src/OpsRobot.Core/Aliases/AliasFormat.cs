using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Aliases;

/// <summary>
/// One compiled alias format string, with StackStorm's semantics (st2common
/// <c>models/utils/action_alias_utils.py</c>, <c>ActionAliasFormatParser</c>), so that a team's StackStorm aliases
/// match the same chat lines here.
/// </summary>
/// <remarks>
/// <para>How a text is matched, step by step, as StackStorm does it:</para>
/// <list type="number">
/// <item>Trailing <c>key=value</c> pairs are cut off the end of the text (see <see cref="AliasMatch.ExtraParameters"/>).</item>
/// <item>The format is a Python regular expression: its literal parts are <em>not</em> escaped, so <c>.</c>,
/// <c>?</c>, <c>(…)</c> in a format are regex syntax. Each <c>{{name}}</c> becomes
/// <c>["']?(?P&lt;name&gt;'…'|"…"|{…}|.+?)["']?</c> (lazy, so a value stops where the rest of the format can
/// match) and each <c>{{name=default}}</c> becomes the same group made optional together with the whitespace
/// before it.</item>
/// <item>Unless the format already contains a beginning anchor (<c>^</c> or <c>\A</c>, looked for as StackStorm's
/// <c>search_regex_tokens</c> does), <c>^\s*</c> is put in front; unless it contains an end anchor (<c>$</c>,
/// <c>\Z</c>), <c>\s*$</c> is put at the end. So a plain format must match the whole text, case-sensitively, and
/// the last parameter takes the rest of the line.</item>
/// <item>The regex is searched in <c>" " + text + " "</c>. The value of a parameter is exactly the text it covered:
/// quotes around a value are dropped, extra spaces between words are kept (<c>deploy   web</c> against
/// <c>deploy {{app}}</c> gives <c>"  web"</c>), and literal words need the exact spacing of the format.</item>
/// </list>
/// <para>One deliberate difference: a quoted value followed by more text (<c>dns "a b" c</c>) does not match,
/// where StackStorm's lazy group gives up on the quotes and takes <c>a b" c</c>, stray quote and all.</para>
/// <para>Every regular expression runs with a time limit (<see cref="MatchTimeout"/>): a format or text that makes
/// the engine backtrack catastrophically ends in <see cref="AliasMatchTimeoutException"/>, not a hung robot.</para>
/// </remarks>
public sealed class AliasFormat
{
    /// <summary>The time limit <see cref="Parse(string)"/> gives a format's regular expression per match.</summary>
    public static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(200);

    private readonly Regex _regex;
    private readonly IReadOnlyList<(string Name, int Group)> _groups;
    private readonly IReadOnlyList<OptionalParameter> _optionals;

    private AliasFormat(
        string source,
        Regex regex,
        IReadOnlyList<(string Name, int Group)> groups,
        IReadOnlyList<OptionalParameter> optionals,
        string leadingLiteral,
        int specificity)
    {
        Source = source;
        _regex = regex;
        _groups = groups;
        _optionals = optionals;
        ParameterNames = [.. groups.Select(g => g.Name)];
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var optional in optionals)
        {
            defaults[optional.Name] = optional.Default;
        }

        Defaults = defaults;
        LeadingLiteral = leadingLiteral;
        Specificity = specificity;
    }

    /// <summary>The format exactly as written.</summary>
    public string Source { get; }

    /// <summary>
    /// The names the format can extract, in the order they appear: every <c>{{name}}</c> and
    /// <c>{{name=default}}</c>, and every named group <c>(?P&lt;name&gt;…)</c> of a regex-style format.
    /// </summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The default of each optional parameter <c>{{name=default}}</c> (quotes around the default removed).</summary>
    public IReadOnlyDictionary<string, string> Defaults { get; }

    /// <summary>
    /// The whole literal words the format starts with, in <see cref="AliasText.Normalize(string)"/> form:
    /// <c>"deploy"</c> for <c>deploy {{app}} to {{env=staging}}</c>, <c>"nagios ack"</c> for
    /// <c>nagios ack {{host}}</c>; empty when the format starts with a parameter or a regex construct.
    /// </summary>
    /// <remarks>
    /// <para>Invariant, for every text: if <see cref="Match(string)"/> or <see cref="MatchAll(string)"/> finds a match,
    /// then <c>AliasText.StartsWithWords(AliasText.Normalize(text), LeadingLiteral)</c> is true, i.e. the normalised
    /// text equals <see cref="LeadingLiteral"/> or starts with it followed by a space. So a router may index formats by
    /// their literal words and try a format only for texts whose first normalised words are those words.</para>
    /// <para>To keep that true, only whole words are kept: a word directly followed by a parameter, a group or a
    /// quantifier is dropped (<c>deploy{{app}}</c> and <c>deploys? {{app}}</c> give <c>""</c>), escaped punctuation
    /// counts as literal (<c>v1\.2 {{x}}</c> gives <c>"v1.2"</c>), and the literal is empty whenever the format
    /// could match elsewhere than at the start: it has its own beginning anchor, a top-level <c>|</c>, or a global
    /// inline flag such as <c>(?i)</c>, <c>(?m)</c> or <c>(?x)</c>.</para>
    /// </remarks>
    public string LeadingLiteral { get; }

    /// <summary>
    /// How specific the format is, for choosing among several formats that match the same text: the number of
    /// non-whitespace literal characters that every matching text must contain, counted at the top level of the
    /// format (outside parameters, groups and optional or repeated parts; for a top-level <c>a|b</c>, the smaller
    /// count). More literal text means more specific: <c>deploy {{app}} to {{env}}</c> (8) beats
    /// <c>deploy {{app}}</c> (6), which beats <c>{{command}}</c> (0). StackStorm itself has no such rule: it refuses a
    /// command that matches more than one format as ambiguous.
    /// </summary>
    public int Specificity { get; }

    /// <summary>The time limit for one match of this format's regular expression.</summary>
    public TimeSpan MatchTimeout => _regex.MatchTimeout;

    /// <summary>Compiles a format with <see cref="DefaultMatchTimeout"/>.</summary>
    /// <exception cref="AliasFormatException">The format is malformed; the exception says where.</exception>
    public static AliasFormat Parse(string format) => Parse(format, DefaultMatchTimeout);

    /// <summary>Compiles a format whose matches may each take up to <paramref name="matchTimeout"/>.</summary>
    /// <exception cref="AliasFormatException">The format is malformed; the exception says where.</exception>
    public static AliasFormat Parse(string format, TimeSpan matchTimeout)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (matchTimeout <= TimeSpan.Zero || matchTimeout == Regex.InfiniteMatchTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(matchTimeout), matchTimeout, "A finite, positive time limit is required: chat text is hostile.");
        }

        FormatTemplate template;
        try
        {
            template = FormatTemplate.Build(format);
        }
        catch (FormatTemplateException ex)
        {
            throw Invalid(format, ex.Message, ex.Position, ex);
        }

        PyTranslation python;
        try
        {
            python = PythonRegexTranslator.Translate(template.Pattern);
        }
        catch (PyRegexException ex)
        {
            throw Invalid(format, ex.Message, Position(template.SourceIndex, ex.Position), ex);
        }

        var hasBeginning = PythonRegexTranslator.ContainsAnchor(python.Tree, PyAnchor.Beginning, PyAnchor.BeginningString);
        var hasEnd = PythonRegexTranslator.ContainsAnchor(python.Tree, PyAnchor.End, PyAnchor.EndString);

        // The anchors are added in Python syntax and the whole is translated again, as StackStorm compiles the
        // concatenation: in verbose mode a trailing "# comment" in the format swallows the added "\s*$".
        const string Prefix = @"^\s*";
        const string Suffix = @"\s*$";
        var full = python;
        var fullMap = template.SourceIndex;
        if (!hasBeginning || !hasEnd)
        {
            var last = Math.Max(0, format.Length - 1);
            var text = (hasBeginning ? string.Empty : Prefix) + template.Pattern + (hasEnd ? string.Empty : Suffix);
            fullMap = [.. Enumerable.Repeat(0, hasBeginning ? 0 : Prefix.Length), .. template.SourceIndex, .. Enumerable.Repeat(last, hasEnd ? 0 : Suffix.Length)];
            try
            {
                full = PythonRegexTranslator.Translate(text);
            }
            catch (PyRegexException ex)
            {
                throw Invalid(format, ex.Message, Position(fullMap, ex.Position), ex);
            }
        }

        var options = RegexOptions.Singleline | RegexOptions.CultureInvariant;
        if (full.IgnoreCase)
        {
            options |= RegexOptions.IgnoreCase;
        }

        if (full.Multiline)
        {
            options |= RegexOptions.Multiline;
        }

        Regex regex;
        try
        {
            regex = new Regex(full.Pattern, options, matchTimeout);
        }
        catch (ArgumentException ex)
        {
            // The translator refuses what Python refuses; this is for the rare construct .NET alone rejects.
            var offset = ex is RegexParseException parse ? parse.Offset : 0;
            var reason = ex is RegexParseException p ? p.Error.ToString() : ex.Message;
            throw Invalid(format, "the regular expression is not supported: " + reason, Position(fullMap, Position(full.PatternToInput, offset)), ex);
        }

        return new AliasFormat(
            format,
            regex,
            [.. python.NamedGroups.Select(g => (g.Name, g.Number))],
            template.Optionals,
            LeadingWords(python, prefixAdded: !hasBeginning, suffixAdded: !hasEnd),
            python.Tree.Branches.Min(CountLiterals));
    }

    /// <summary>
    /// Matches <paramref name="text"/> (the command, without the robot's name) against the format; null when it does
    /// not match, as StackStorm's parser raising <c>ParseException</c>.
    /// </summary>
    /// <exception cref="AliasMatchTimeoutException">Matching ran past <see cref="MatchTimeout"/>.</exception>
    public AliasMatch? Match(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (stream, pairs) = SplitPairs(text);
        try
        {
            var match = _regex.Match(" " + stream + " ");
            return match.Success ? Build(match, stream, pairs) : null;
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new AliasMatchTimeoutException(Source, text.Length, ex.MatchTimeout, ex);
        }
    }

    /// <summary>
    /// Every non-overlapping match in the text, left to right: StackStorm's <c>match_multiple</c> formats, which run
    /// the action once per match (typically with their own anchors, such as
    /// <c>(?:\b|^)fixes (?P&lt;issue&gt;[A-Z]+-[0-9]+)(?:\b|$)</c>). The trailing pairs apply to each match. A match
    /// StackStorm would reject with "No value supplied" is left out.
    /// </summary>
    /// <exception cref="AliasMatchTimeoutException">Matching ran past <see cref="MatchTimeout"/>.</exception>
    public IReadOnlyList<AliasMatch> MatchAll(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (stream, pairs) = SplitPairs(text);
        var results = new List<AliasMatch>();
        try
        {
            foreach (Match match in _regex.Matches(" " + stream + " "))
            {
                if (Build(match, stream, pairs) is { } result)
                {
                    results.Add(result);
                }
            }
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new AliasMatchTimeoutException(Source, text.Length, ex.MatchTimeout, ex);
        }

        return results;
    }

    /// <inheritdoc/>
    public override string ToString() => Source;

    private (string Stream, List<KeyValuePair<string, string>> Pairs) SplitPairs(string text)
    {
        try
        {
            // StackStorm deletes every occurrence of the trailing run from the text (str.replace); only the
            // trailing one is cut here, so that earlier words equal to it are not silently lost.
            var start = TrailingPairs.FindStart(text);
            return start == text.Length ? (text, []) : (text[..start], TrailingPairs.Read(text[start..]));
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new AliasMatchTimeoutException(Source, text.Length, ex.MatchTimeout, ex);
        }
    }

    /// <summary>
    /// Whether <paramref name="captured"/> (found in <c>" " + stream + " "</c>) opened with a quote that the format
    /// took off, holds that quote followed by a space and more, and does not end with it: <c>"a b" c</c>. Values that
    /// open and close with the quote (<c>"a" "b"</c>, <c>'it''s'</c>) keep StackStorm's reading.
    /// </summary>
    private static bool QuotedThenMore(string stream, Group captured)
    {
        var before = captured.Index - 2;
        var after = captured.Index + captured.Length - 1;
        if (before < 0 || stream[before] is not ('"' or '\'') || (after < stream.Length && stream[after] == stream[before]))
        {
            return false;
        }

        var quote = stream[before];
        var value = captured.Value;
        for (var i = value.IndexOf(quote, StringComparison.Ordinal); i >= 0 && i < value.Length - 1; i = value.IndexOf(quote, i + 1))
        {
            if (char.IsWhiteSpace(value[i + 1]) && !AliasText.IsBlank(value[(i + 1)..]))
            {
                return true;
            }
        }

        return false;
    }

    private AliasMatch? Build(Match match, string stream, List<KeyValuePair<string, string>> pairs)
    {
        // Same order of precedence as StackStorm: what the format captured, then defaults for optional parameters
        // that captured nothing, then the trailing pairs over everything.
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, group) in _groups)
        {
            var captured = match.Groups[string.Create(CultureInfo.InvariantCulture, $"g{group}")];
            if (captured.Success && QuotedThenMore(stream, captured))
            {
                // A quoted value with more words after its closing quote ("a b" c): StackStorm's lazy group gives up
                // on the quotes and takes the rest of the line, stray quote and all (host `a b" c`). That is neither
                // what was typed as the value nor what quotes are for, so the format does not match, and the
                // robot answers with the form to use.
                return null;
            }

            values[name] = captured.Success ? captured.Value : null;
        }

        foreach (var optional in _optionals)
        {
            if (string.IsNullOrEmpty(values.GetValueOrDefault(optional.Name)))
            {
                values[optional.Name] = optional.Default;
            }
        }

        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            if (values.ContainsKey(key))
            {
                values[key] = value;
            }
            else
            {
                extra[key] = value;
            }
        }

        if (Source.Length > 0 && AliasText.IsBlank(stream)
            && values.Values.All(string.IsNullOrEmpty) && extra.Values.All(string.IsNullOrEmpty))
        {
            // StackStorm: "No value supplied and no default value found."
            return null;
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            // A regex group that took no part in the match is None in StackStorm; its execution layer treats None
            // like an absent parameter (the action's default applies), so it is left out here.
            if (value is not null)
            {
                parameters[name] = value;
            }
        }

        return new AliasMatch(parameters, extra);
    }

    private static int Position(IReadOnlyList<int> map, int position) =>
        map.Count == 0 ? 0 : map[Math.Clamp(position, 0, map.Count - 1)];

    private static AliasFormatException Invalid(string format, string reason, int index, Exception inner)
    {
        var column = index + 1;
        return new AliasFormatException(
            string.Create(CultureInfo.InvariantCulture, $"Alias format \"{format}\", column {column}: {reason}."),
            column,
            inner);
    }

    private static string LeadingWords(PyTranslation python, bool prefixAdded, bool suffixAdded)
    {
        if (!prefixAdded || python.HasGlobalFlags || python.Tree.Branches.Count != 1)
        {
            return string.Empty;
        }

        var items = python.Tree.Branches[0].Items;
        var raw = new StringBuilder();
        var wholeWords = 0;
        var i = 0;
        for (; i < items.Count && items[i] is { Kind: PyItemKind.Literal, Quantified: false } literal; i++)
        {
            raw.Append(literal.CodePoint > 0xFFFF ? char.ConvertFromUtf32(literal.CodePoint) : ((char)literal.CodePoint).ToString());
            if (IsSpace(literal))
            {
                wholeWords = raw.Length;
            }
        }

        if (WordEndsAt(items, i, suffixAdded))
        {
            wholeWords = raw.Length;
        }

        return AliasText.Normalize(raw.ToString(0, wholeWords));
    }

    /// <summary>Is the text guaranteed to have whitespace or its end where item <paramref name="i"/> starts?</summary>
    private static bool WordEndsAt(List<PyItem> items, int i, bool suffixAdded)
    {
        for (; i < items.Count; i++)
        {
            var item = items[i];
            if (item is { Kind: PyItemKind.Anchor, Anchor: PyAnchor.End or PyAnchor.EndString })
            {
                return true;
            }

            if (item.MinRepeat >= 1 && (IsSpace(item) || item.IsSpaceClass))
            {
                return true;
            }

            // Optional whitespace (" ?", "\s*"), or an optional parameter {{p=d}} with a space before it: either it
            // matches, starting with whitespace, or it matches nothing and the next item decides.
            if (item.MinRepeat == 0 && (IsSpace(item) || item.IsSpaceClass))
            {
                continue;
            }

            if (item is { Kind: PyItemKind.Group, Quantified: true, MinRepeat: 0, Body: not null }
                && item.Body.Branches.All(b => b.Items.Count > 0 && b.Items[0].MinRepeat >= 1 && (IsSpace(b.Items[0]) || b.Items[0].IsSpaceClass)))
            {
                continue;
            }

            return false;
        }

        return suffixAdded;
    }

    private static bool IsSpace(PyItem item) =>
        item.Kind == PyItemKind.Literal && item.CodePoint <= 0xFFFF && AliasText.IsWhiteSpace((char)item.CodePoint);

    private static int CountLiterals(PySequence branch) =>
        branch.Items.Count(item => item.Kind == PyItemKind.Literal && item.MinRepeat >= 1 && !IsSpace(item));
}
