using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Rules;

/// <summary>Whether a criterion holds, and in words why or why not.</summary>
public readonly record struct OperatorOutcome(bool Holds, string Detail)
{
    public static OperatorOutcome Yes(string detail) => new(true, detail);

    public static OperatorOutcome No(string detail) => new(false, detail);
}

/// <summary>
/// StackStorm's criteria operators, by the same names and aliases (case-insensitive, as StackStorm's
/// <c>get_operator</c> lowers them) and with the same meaning: each applies Python's semantics to the payload value
/// (left) and the pattern (right), a missing key is a null value, a pattern of null never holds (except for
/// <c>nequals</c>, <c>exists</c> and <c>nexists</c>), and values an operator cannot apply to (text operators on a
/// number, <c>lessthan</c> between text and a number) make it not hold rather than fail the rule.
/// One deliberate extension: <c>lessthan</c>/<c>greaterthan</c> and the time differences read a pattern of text
/// that spells a number ("10", as a template such as <c>{{ kv.system.limit }}</c> renders) as that number.
/// </summary>
public static class CriteriaOperators
{
    /// <summary>How long one regular-expression or wildcard match may run before the criterion is treated as not holding.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest regular expression or wildcard pattern accepted.</summary>
    public const int MaxPatternLength = 2000;

    private const int MaxCachedRegexes = 1000;

    private static readonly ConcurrentDictionary<(string Pattern, char Kind), Regex> Regexes = new();

    /// <summary>Every name and alias, mapped to its canonical (long) name.</summary>
    public static FrozenDictionary<string, string> Names { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["equals"] = "equals",
        ["eq"] = "equals",
        ["nequals"] = "nequals",
        ["neq"] = "nequals",
        ["iequals"] = "iequals",
        ["ieq"] = "iequals",
        ["contains"] = "contains",
        ["icontains"] = "icontains",
        ["ncontains"] = "ncontains",
        ["incontains"] = "incontains",
        ["startswith"] = "startswith",
        ["istartswith"] = "istartswith",
        ["endswith"] = "endswith",
        ["iendswith"] = "iendswith",
        ["lessthan"] = "lessthan",
        ["lt"] = "lessthan",
        ["greaterthan"] = "greaterthan",
        ["gt"] = "greaterthan",
        ["matchwildcard"] = "matchwildcard",
        ["regex"] = "regex",
        ["iregex"] = "iregex",
        ["matchregex"] = "matchregex",
        ["timediff_lt"] = "timediff_lt",
        ["td_lt"] = "timediff_lt",
        ["timediff_gt"] = "timediff_gt",
        ["td_gt"] = "timediff_gt",
        ["exists"] = "exists",
        ["nexists"] = "nexists",
        ["inside"] = "inside",
        ["in"] = "inside",
        ["ninside"] = "ninside",
        ["nin"] = "ninside",
        ["search"] = "search",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The conditions of <c>search</c>.</summary>
    public static IReadOnlyList<string> SearchConditions { get; } = ["any", "all", "any2any", "all2any"];

    /// <summary>The canonical name of an operator written as <paramref name="type"/>, or null when there is none.</summary>
    public static string? Canonical(string? type) =>
        type is not null && Names.TryGetValue(type.Trim().ToLowerInvariant(), out var name) ? name : null;

    /// <summary>
    /// Checks a pattern that does not depend on the event (no template in it) once, at load: a regular expression
    /// that does not compile is a load error, not a rule that silently never fires. Returns the problem or null.
    /// </summary>
    public static string? CheckStaticPattern(string canonical, JsonNode? pattern)
    {
        if (PyValues.Kind(pattern) != JsonValueKind.String)
        {
            return null;
        }

        var text = pattern!.GetValue<string>();
        try
        {
            switch (canonical)
            {
                case "regex" or "iregex" or "matchregex":
                    GetRegex(text, canonical[0] == 'i' ? 'i' : canonical[0] == 'm' ? 'm' : 'r');
                    break;
                case "matchwildcard":
                    GetRegex(text, 'w');
                    break;
            }
        }
        catch (PyTypeException ex)
        {
            return ex.Message;
        }

        return null;
    }

    /// <summary>
    /// Applies the operator <paramref name="canonical"/> (not <c>search</c>, which needs the criteria evaluator) to a
    /// payload value and a rendered pattern.
    /// </summary>
    public static OperatorOutcome Apply(string canonical, JsonNode? value, JsonNode? pattern, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        try
        {
            return canonical switch
            {
                "exists" => value is not null ? OperatorOutcome.Yes("the key has a value") : OperatorOutcome.No("the key is missing or null"),
                "nexists" => value is null ? OperatorOutcome.Yes("the key is missing or null") : OperatorOutcome.No($"the key has a value: {PyValues.Short(value)}"),
                "nequals" => Result(!PyValues.Equal(value, pattern), "differs from the pattern", "equals the pattern"),
                _ when pattern is null => OperatorOutcome.No("the pattern is null, so the operator never holds"),
                "equals" => Result(PyValues.Equal(value, pattern), "equals the pattern", "does not equal the pattern"),
                "iequals" => Result(
                    string.Equals(PyValues.Lower(PyValues.Text(value, "value")), PyValues.Lower(PyValues.Text(pattern, "pattern")), StringComparison.Ordinal),
                    "equals the pattern ignoring case", "does not equal the pattern, even ignoring case"),
                "contains" => Result(PyValues.In(pattern, value), "contains the pattern", "does not contain the pattern"),
                "ncontains" => Result(!PyValues.In(pattern, value), "does not contain the pattern", "contains the pattern"),
                "icontains" => Result(LowerText(value, "value").Contains(LowerText(pattern, "pattern"), StringComparison.Ordinal),
                    "contains the pattern ignoring case", "does not contain the pattern, even ignoring case"),
                "incontains" => Result(!LowerText(value, "value").Contains(LowerText(pattern, "pattern"), StringComparison.Ordinal),
                    "does not contain the pattern, even ignoring case", "contains the pattern ignoring case"),
                "startswith" => Result(PyValues.Text(value, "value").StartsWith(PyValues.Text(pattern, "pattern"), StringComparison.Ordinal), "starts with the pattern", "does not start with the pattern"),
                "istartswith" => Result(LowerText(value, "value").StartsWith(LowerText(pattern, "pattern"), StringComparison.Ordinal), "starts with the pattern ignoring case", "does not start with the pattern, even ignoring case"),
                "endswith" => Result(PyValues.Text(value, "value").EndsWith(PyValues.Text(pattern, "pattern"), StringComparison.Ordinal), "ends with the pattern", "does not end with the pattern"),
                "iendswith" => Result(LowerText(value, "value").EndsWith(LowerText(pattern, "pattern"), StringComparison.Ordinal), "ends with the pattern ignoring case", "does not end with the pattern, even ignoring case"),
                "lessthan" => Result(PyValues.Compare(value, NumberLike(pattern, value)) < 0, "is less than the pattern", "is not less than the pattern"),
                "greaterthan" => Result(PyValues.Compare(value, NumberLike(pattern, value)) > 0, "is greater than the pattern", "is not greater than the pattern"),
                "matchwildcard" => Matches(value, pattern, 'w', "matches the wildcard pattern", "does not match the wildcard pattern"),
                "regex" => Matches(value, pattern, 'r', "matches the regular expression", "does not match the regular expression"),
                "iregex" => Matches(value, pattern, 'i', "matches the regular expression ignoring case", "does not match the regular expression, even ignoring case"),
                "matchregex" => Matches(value, pattern, 'm', "matches the regular expression from its start", "does not match the regular expression from its start"),
                "timediff_lt" => TimeDiff(value, pattern, now, lessThan: true),
                "timediff_gt" => TimeDiff(value, pattern, now, lessThan: false),
                "inside" => Result(PyValues.In(value, pattern), "is inside the pattern", "is not inside the pattern"),
                "ninside" => Result(!PyValues.In(value, pattern), "is not inside the pattern", "is inside the pattern"),
                _ => throw new ArgumentException($"'{canonical}' is not an operator this method applies.", nameof(canonical)),
            };
        }
        catch (PyTypeException ex)
        {
            return OperatorOutcome.No(ex.Message);
        }
    }

    private static OperatorOutcome Result(bool holds, string yes, string no) => new(holds, "the value " + (holds ? yes : no));

    private static string LowerText(JsonNode? node, string role) => PyValues.Lower(PyValues.Text(node, role));

    /// <summary>The pattern as a number when the value is one and the pattern is text that spells a number.</summary>
    private static JsonNode? NumberLike(JsonNode? pattern, JsonNode? value) =>
        PyValues.IsNumeric(value) && PyValues.NumericText(pattern) is { } number ? number : pattern;

    private static OperatorOutcome Matches(JsonNode? value, JsonNode? pattern, char kind, string yes, string no)
    {
        var text = PyValues.Text(value, "value");
        var regex = GetRegex(PyValues.Text(pattern, "pattern"), kind);
        try
        {
            return Result(regex.IsMatch(text), yes, no);
        }
        catch (RegexMatchTimeoutException)
        {
            return OperatorOutcome.No(string.Create(CultureInfo.InvariantCulture,
                $"matching took longer than {RegexTimeout.TotalMilliseconds} ms and was stopped; simplify the pattern"));
        }
    }

    /// <summary>
    /// StackStorm's <c>_timediff</c>: seconds from the value (a date and time; without an offset it is UTC) to now,
    /// compared with the pattern (seconds).
    /// </summary>
    private static OperatorOutcome TimeDiff(JsonNode? value, JsonNode? pattern, DateTimeOffset now, bool lessThan)
    {
        var text = PyValues.Text(value, "value");
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var at))
        {
            return OperatorOutcome.No($"the value \"{text}\" is not a date and time (use ISO 8601, e.g. 2026-11-21T09:00:00Z)");
        }

        var seconds = (decimal)(now - at).TotalSeconds;
        var limit = PyValues.IsNumeric(pattern) ? pattern : PyValues.NumericText(pattern)
            ?? throw new PyTypeException($"the pattern must be a number of seconds, but it is {PyValues.Describe(pattern)}");
        var bound = PyValues.Number(limit);
        var holds = lessThan ? seconds < bound : seconds > bound;
        var elapsed = seconds.ToString("0.###", CultureInfo.InvariantCulture);
        return new OperatorOutcome(holds, $"{elapsed} s have passed since the value, which is {(lessThan ? (holds ? "less" : "not less") : (holds ? "more" : "not more"))} than {bound.ToString(CultureInfo.InvariantCulture)} s");
    }

    /// <summary>Compiles (and caches) a pattern: 'r' regex (search), 'i' iregex, 'm' matchregex (match at start, dot-all), 'w' wildcard.</summary>
    private static Regex GetRegex(string pattern, char kind)
    {
        if (Regexes.TryGetValue((pattern, kind), out var cached))
        {
            return cached;
        }

        if (pattern.Length > MaxPatternLength)
        {
            throw new PyTypeException(string.Create(CultureInfo.InvariantCulture, $"the pattern is longer than {MaxPatternLength} characters"));
        }

        var options = RegexOptions.CultureInvariant;
        string dotnet;
        if (kind == 'w')
        {
            dotnet = TranslateWildcard(pattern);
        }
        else
        {
            PyTranslation translated;
            try
            {
                translated = PythonRegexTranslator.Translate(pattern);
            }
            catch (PyRegexException ex)
            {
                throw new PyTypeException(string.Create(CultureInfo.InvariantCulture, $"the regular expression does not compile at position {ex.Position}: {ex.Message}"), ex);
            }

            dotnet = kind == 'm' ? @"\A(?:" + translated.Pattern + ")" : translated.Pattern;
            options |= translated.IgnoreCase || kind == 'i' ? RegexOptions.IgnoreCase : RegexOptions.None;
            options |= translated.Multiline ? RegexOptions.Multiline : RegexOptions.None;
            options |= kind == 'm' ? RegexOptions.Singleline : RegexOptions.None;
        }

        Regex regex;
        try
        {
            regex = new Regex(dotnet, options, RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new PyTypeException($"the pattern does not compile: {ex.Message}", ex);
        }

        if (Regexes.Count >= MaxCachedRegexes)
        {
            // Patterns rendered from events could be endless; a full cache starts over rather than grow.
            Regexes.Clear();
        }

        Regexes.TryAdd((pattern, kind), regex);
        return regex;
    }

    /// <summary>
    /// Python's <c>fnmatch.translate</c>: <c>*</c> any run, <c>?</c> one character, <c>[seq]</c> and <c>[!seq]</c> sets,
    /// everything else literal, the whole text matched (newlines included). Case-sensitive, as on POSIX.
    /// </summary>
    internal static string TranslateWildcard(string pattern)
    {
        var sb = new StringBuilder(@"\A(?s:");
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i++];
            switch (c)
            {
                case '*':
                    while (i < pattern.Length && pattern[i] == '*')
                    {
                        i++;
                    }

                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var j = i;
                    if (j < pattern.Length && pattern[j] == '!')
                    {
                        j++;
                    }

                    if (j < pattern.Length && pattern[j] == ']')
                    {
                        j++;
                    }

                    while (j < pattern.Length && pattern[j] != ']')
                    {
                        j++;
                    }

                    if (j >= pattern.Length)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    var set = pattern[i..j].Replace(@"\", @"\\", StringComparison.Ordinal).Replace("[", @"\[", StringComparison.Ordinal);
                    i = j + 1;
                    if (set.StartsWith('!'))
                    {
                        set = "^" + set[1..];
                    }
                    else if (set.StartsWith('^'))
                    {
                        set = @"\" + set;
                    }

                    sb.Append('[').Append(set).Append(']');
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append(@")\z").ToString();
    }
}
