using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Templates;

internal delegate Value FilterFn(RenderState st, Value input, Args args);

internal delegate bool TestFn(RenderState st, Value input, Args args);

internal sealed class FilterDef(string name, FilterFn invoke)
{
    public string Name { get; } = name;

    public FilterFn Invoke { get; } = invoke;
}

internal sealed class TestDef(string name, TestFn invoke)
{
    public string Name { get; } = name;

    public TestFn Invoke { get; } = invoke;
}

/// <summary>The built-in filters (Jinja's, and StackStorm's st2 filters) and tests. See docs/templates.md.</summary>
internal static partial class Filters
{
    public static readonly FrozenDictionary<string, FilterDef> All = BuildFilters();

    public static readonly FrozenDictionary<string, TestDef> Tests = BuildTests();

    private static FrozenDictionary<string, FilterDef> BuildFilters()
    {
        var d = new Dictionary<string, FilterDef>(StringComparer.Ordinal);
        void Add(FilterFn fn, params string[] names)
        {
            foreach (var n in names)
            {
                d.Add(n, new FilterDef(n, fn));
            }
        }

        Add((st, v, a) => StringFilter(st, v, a, "upper", s => s.ToUpperInvariant()), "upper");
        Add((st, v, a) => StringFilter(st, v, a, "lower", s => s.ToLowerInvariant()), "lower");
        Add((st, v, a) => StringFilter(st, v, a, "title", Title), "title");
        Add((st, v, a) => StringFilter(st, v, a, "capitalize", Capitalize), "capitalize");
        Add(Trim, "trim", "strip");
        Add(Default, "default", "d");
        Add(Join, "join");
        Add((st, v, a) => NoArgs(st, a, "length", Value.Int(Ops.Length(st, v))), "length", "count");
        Add((st, v, a) => NoArgs(st, a, "first", FirstOrLast(st, v, first: true)), "first");
        Add((st, v, a) => NoArgs(st, a, "last", FirstOrLast(st, v, first: false)), "last");
        Add(ToJson, "tojson", "to_json_string");
        Add(FromJson, "fromjson", "from_json_string");
        Add(Replace, "replace");
        Add(ToInt, "int");
        Add(ToFloat, "float");
        Add((st, v, a) => NoArgs(st, a, "string", v.Kind == ValueKind.String ? v : Value.Str(TextForm.SoftStr(st, v))), "string");
        Add((st, v, a) => NoArgs(st, a, "bool", Value.Bool(ToBool(v))), "bool");
        Add((st, v, a) => NoArgs(st, a, "list", ToList(st, v)), "list");
        Add(Sort, "sort");
        Add((st, v, a) => NoArgs(st, a, "reverse", Reverse(st, v)), "reverse");
        Add(Unique, "unique");
        Add((st, v, a) => MinMax(st, v, a, "min", wantMax: false), "min");
        Add((st, v, a) => MinMax(st, v, a, "max", wantMax: true), "max");
        Add(Sum, "sum");
        Add((st, v, a) => NoArgs(st, a, "abs", Abs(st, v)), "abs");
        Add(Round, "round");
        Add(Map, "map");
        Add((st, v, a) => Select(st, v, a, "select", byAttribute: false, keep: true), "select");
        Add((st, v, a) => Select(st, v, a, "reject", byAttribute: false, keep: false), "reject");
        Add((st, v, a) => Select(st, v, a, "selectattr", byAttribute: true, keep: true), "selectattr");
        Add((st, v, a) => Select(st, v, a, "rejectattr", byAttribute: true, keep: false), "rejectattr");
        Add(DictSort, "dictsort");
        Add((st, v, a) => NoArgs(st, a, "items", Items(st, v, "items")), "items");
        Add((st, v, a) => NoArgs(st, a, "keys", KeysOrValues(st, v, keys: true)), "keys");
        Add((st, v, a) => NoArgs(st, a, "values", KeysOrValues(st, v, keys: false)), "values");
        Add(Indent, "indent");
        Add((st, v, a) => NoArgs(st, a, "wordcount", Value.Int(WordCount(TextForm.SoftStr(st, v)))), "wordcount");
        Add(Truncate, "truncate");
        Add((st, v, a) => RegexTest(st, v, a, "regex_match", anchored: true), "regex_match");
        Add((st, v, a) => RegexTest(st, v, a, "regex_search", anchored: false), "regex_search");
        Add(RegexReplace, "regex_replace");
        Add(RegexSubstring, "regex_substring");
        Add((st, v, a) => StringFilter(st, v, a, "json_escape", JsonEscape), "json_escape");
        Add((st, v, a) => StringFilter(st, v, a, "basename", Basename), "basename");
        Add((st, v, a) => StringFilter(st, v, a, "dirname", Dirname), "dirname");
        Add((st, v, a) => NoArgs(st, a, "urlencode", UrlEncode(st, v)), "urlencode");
        Add((st, v, a) => StringFilter(st, v, a, "b64encode", s => Convert.ToBase64String(Encoding.UTF8.GetBytes(s))), "b64encode");
        Add((st, v, a) => NoArgs(st, a, "b64decode", B64Decode(st, v)), "b64decode");
        Add(Split, "split");
        Add((st, v, a) => Ops.GetAttr(st, v, a.Bind(st, "filter 'attr'", ["name"]).RequiredString(0)), "attr");
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static Value NoArgs(RenderState st, Args a, string name, Value result) =>
        a.Count > 0 || a.Named.Length > 0 ? throw st.Error($"filter '{name}' takes no arguments") : result;

    private static Value StringFilter(RenderState st, Value v, Args a, string name, Func<string, string> f)
    {
        if (a.Count > 0 || a.Named.Length > 0)
        {
            throw st.Error($"filter '{name}' takes no arguments");
        }

        var result = f(TextForm.SoftStr(st, v));
        st.CheckLength(result.Length);
        return Value.Str(result);
    }

    private static List<Value> Seq(RenderState st, Value v)
    {
        var items = Ops.Iterate(st, v);
        st.Steps(items.Count);
        return items;
    }

    // ---- strings ----

    /// <summary>Jinja's title: a capital after spaces, dashes and opening brackets, the rest lowercase.</summary>
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var start = true;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<')
            {
                sb.Append(c);
                start = true;
            }
            else
            {
                sb.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
                start = false;
            }
        }

        return sb.ToString();
    }

    private static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static Value Trim(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'trim'", ["chars"]);
        var s = TextForm.SoftStr(st, v);
        return Value.Str(b.Has(0) && !b.Get(0).IsNoneOrUndefined ? s.Trim(b.RequiredString(0).ToCharArray()) : s.Trim());
    }

    private static Value Default(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'default'", ["default_value", "boolean"]);
        return v.IsUndefined || (b.Bool(1, false) && !Ops.Truthy(v)) ? b.Get(0, Value.EmptyString) : v;
    }

    private static Value Join(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'join'", ["d", "attribute"]);
        var sep = b.String(0, string.Empty);
        var attribute = b.Has(1) ? b.RequiredString(1) : null;
        var sb = new StringBuilder();
        var first = true;
        foreach (var item in Seq(st, v))
        {
            if (!first)
            {
                sb.Append(sep);
            }

            first = false;
            var text = TextForm.SoftStr(st, attribute is null ? item : Ops.Attribute(st, item, attribute));
            st.CheckLength((long)sb.Length + text.Length);
            sb.Append(text);
        }

        return Value.Str(sb.ToString());
    }

    private static Value Replace(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'replace'", ["old", "new", "count"]);
        var s = TextForm.SoftStr(st, v);
        var old = b.RequiredString(0);
        var replacement = b.RequiredString(1);
        var max = b.Int(2, -1);
        return Value.Str(ReplaceText(st, s, old, replacement, max));
    }

    /// <summary>Python's str.replace, with the result's size checked before it is built.</summary>
    public static string ReplaceText(RenderState st, string s, string old, string replacement, long max)
    {
        if (max < 0)
        {
            max = long.MaxValue;
        }

        if (old.Length == 0)
        {
            // Python inserts the replacement before every character and at the end.
            var slots = Math.Min(max, s.Length + 1L);
            st.CheckLength(s.Length + (slots * replacement.Length));
            var inserted = new StringBuilder();
            for (var i = 0; i <= s.Length; i++)
            {
                if (i < slots)
                {
                    inserted.Append(replacement);
                }

                if (i < s.Length)
                {
                    inserted.Append(s[i]);
                }
            }

            return inserted.ToString();
        }

        long count = 0;
        for (var i = s.IndexOf(old, StringComparison.Ordinal); i >= 0 && count < max; i = s.IndexOf(old, i + old.Length, StringComparison.Ordinal))
        {
            count++;
        }

        st.CheckLength(s.Length + (count * (replacement.Length - old.Length)));
        var sb = new StringBuilder();
        var pos = 0;
        for (var n = 0L; n < count; n++)
        {
            var i = s.IndexOf(old, pos, StringComparison.Ordinal);
            sb.Append(s, pos, i - pos).Append(replacement);
            pos = i + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static Value Split(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'split'", ["sep", "maxsplit"]);
        return SplitText(st, TextForm.SoftStr(st, v), b.Has(0) && !b.Get(0).IsNoneOrUndefined ? b.RequiredString(0) : null, b.Int(1, -1));
    }

    /// <summary>Python's str.split: on runs of whitespace without a separator, else on each separator.</summary>
    public static Value SplitText(RenderState st, string s, string? sep, long maxSplit)
    {
        var parts = new List<Value>();
        if (maxSplit < 0)
        {
            maxSplit = long.MaxValue;
        }

        if (sep is null)
        {
            var i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (parts.Count == maxSplit)
                {
                    parts.Add(Value.Str(s[i..].TrimEnd()));
                    break;
                }

                var start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                parts.Add(Value.Str(s[start..i]));
            }
        }
        else
        {
            if (sep.Length == 0)
            {
                throw st.Error("empty separator");
            }

            var pos = 0;
            while (parts.Count < maxSplit)
            {
                var i = s.IndexOf(sep, pos, StringComparison.Ordinal);
                if (i < 0)
                {
                    break;
                }

                parts.Add(Value.Str(s[pos..i]));
                pos = i + sep.Length;
            }

            parts.Add(Value.Str(s[pos..]));
        }

        st.Steps(parts.Count);
        return Value.List(parts);
    }

    private static int WordCount(string s)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in s)
        {
            var word = char.IsLetterOrDigit(c) || c == '_';
            if (word && !inWord)
            {
                count++;
            }

            inWord = word;
        }

        return count;
    }

    private static Value Truncate(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'truncate'", ["length", "killwords", "end", "leeway"]);
        var s = TextForm.SoftStr(st, v);
        var length = b.Int(0, 255);
        var killWords = b.Bool(1, false);
        var end = b.String(2, "...");
        var leeway = b.Int(3, 5);
        if (length < end.Length || leeway < 0)
        {
            throw st.Error("filter 'truncate': length must be at least the length of end, and leeway not negative");
        }

        if (s.Length <= length + leeway)
        {
            return Value.Str(s);
        }

        var cut = s[..(int)(length - end.Length)];
        if (!killWords)
        {
            var space = cut.LastIndexOf(' ');
            if (space >= 0)
            {
                cut = cut[..space];
            }
        }

        return Value.Str(cut + end);
    }

    private static Value Indent(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'indent'", ["width", "first", "blank"]);
        var width = b.Get(0);
        var indentation = width.Kind == ValueKind.String ? width.StringValue : new string(' ', (int)Math.Clamp(b.Int(0, 4), 0, 1000));
        var first = b.Bool(1, false);
        var blank = b.Bool(2, false);
        var lines = (TextForm.SoftStr(st, v) + "\n").Split('\n');
        lines = lines[..^1];
        st.CheckLength((long)lines.Length * (indentation.Length + 1) + TextForm.SoftStr(st, v).Length);
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            var line = lines[i];
            if ((i > 0 || first) && (blank || line.Length > 0))
            {
                sb.Append(indentation);
            }

            sb.Append(line);
        }

        return Value.Str(sb.ToString());
    }

    private static string JsonEscape(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        TextForm.AppendJsonEscaped(sb, s);
        return sb.ToString();
    }

    /// <summary>Python's posixpath.basename: everything after the last slash.</summary>
    private static string Basename(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>Python's posixpath.dirname: everything before the last slash, without trailing slashes unless it is the root.</summary>
    private static string Dirname(string path)
    {
        var i = path.LastIndexOf('/') + 1;
        var head = path[..i];
        var trimmed = head.TrimEnd('/');
        return head.Length > 0 && trimmed.Length == 0 ? head : trimmed;
    }

    private static Value UrlEncode(RenderState st, Value v)
    {
        if (v.Kind == ValueKind.Dict)
        {
            return Value.Str(string.Join('&', v.Entries().Select(kv => UrlQuote(kv.Key, true) + "=" + UrlQuote(TextForm.SoftStr(st, kv.Value), true))));
        }

        if (v.Kind == ValueKind.List)
        {
            var pairs = new List<string>();
            foreach (var item in Seq(st, v))
            {
                if (item.Kind != ValueKind.List || item.Count != 2)
                {
                    throw st.Error("filter 'urlencode' needs a string, a dict, or a list of [key, value] pairs");
                }

                pairs.Add(UrlQuote(TextForm.SoftStr(st, item.ItemAt(0)), true) + "=" + UrlQuote(TextForm.SoftStr(st, item.ItemAt(1)), true));
            }

            return Value.Str(string.Join('&', pairs));
        }

        return Value.Str(UrlQuote(TextForm.SoftStr(st, v), false));
    }

    /// <summary>Percent-encodes UTF-8 bytes except unreserved characters (and '/' outside query strings), as Jinja does.</summary>
    private static string UrlQuote(string s, bool forQuery)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var by in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)by;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (c == '/' && !forQuery))
            {
                sb.Append(c);
            }
            else if (c == ' ' && forQuery)
            {
                sb.Append('+');
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"%{by:X2}");
            }
        }

        return sb.ToString();
    }

    private static Value B64Decode(RenderState st, Value v)
    {
        try
        {
            return Value.Str(Encoding.UTF8.GetString(Convert.FromBase64String(TextForm.SoftStr(st, v).Trim())));
        }
        catch (FormatException ex)
        {
            throw st.Error("filter 'b64decode': the value is not valid base64", null, ex);
        }
    }

    // ---- conversions ----

    private static Value ToJson(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'tojson'", ["indent", "sort_keys"]);
        int? indent = b.Has(0) && !b.Get(0).IsNoneOrUndefined ? (int)Math.Clamp(b.Int(0, 0), 0, 16) : null;
        var json = TextForm.Json(st, v, indent, b.Bool(1, false));
        return Value.Str(json);
    }

    private static Value FromJson(RenderState st, Value v, Args a)
    {
        NoArgs(st, a, "fromjson", Value.None);
        if (v.Kind != ValueKind.String)
        {
            return v.IsUndefined ? v : throw st.Error($"filter 'fromjson' needs a string, not '{Value.KindName(v)}'");
        }

        try
        {
            var node = JsonNode.Parse(v.StringValue, documentOptions: new JsonDocumentOptions { MaxDepth = st.Settings.MaxDepth });
            return Value.FromNode(node);
        }
        catch (JsonException ex)
        {
            throw st.Error("filter 'fromjson': the text is not valid JSON", ex.Message, ex);
        }
    }

    private static Value ToInt(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'int'", ["default", "base"]);
        var fallback = b.Get(0, Value.Int(0));
        var numberBase = (int)b.Int(1, 10);
        return TryInt(v, numberBase, out var result) ? result : fallback;
    }

    /// <summary>Jinja's int: integers as they are, floats truncated, strings parsed (in a base) or read as a float.</summary>
    public static bool TryInt(Value v, int numberBase, out Value result)
    {
        switch (v.Kind)
        {
            case ValueKind.Int:
                result = v;
                return true;
            case ValueKind.Float when double.IsFinite(v.FloatValue):
                var t = Math.Truncate(v.FloatValue);
                result = Math.Abs(t) < 9.2e18 ? Value.Int((long)t) : Value.Float(t);
                return true;
            case ValueKind.Bool:
                result = Value.Int(v.BoolValue ? 1 : 0);
                return true;
            case ValueKind.String:
                var s = v.StringValue.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
                if (TryParseInt(s, numberBase, out var parsed))
                {
                    result = Value.Int(parsed);
                    return true;
                }

                if (numberBase == 10 && TryFloat(s, out var d) && double.IsFinite(d))
                {
                    return TryInt(Value.Float(d), 10, out result);
                }

                break;
        }

        result = Value.Undefined;
        return false;
    }

    private static bool TryParseInt(string s, int numberBase, out long value)
    {
        value = 0;
        var negative = false;
        var i = 0;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            i = 1;
        }

        if (s.Length - i >= 2 && s[i] == '0' && char.ToLowerInvariant(s[i + 1]) is var p &&
            ((p == 'x' && numberBase is 16 or 0) || (p == 'o' && numberBase is 8 or 0) || (p == 'b' && numberBase is 2 or 0)))
        {
            numberBase = p switch { 'x' => 16, 'o' => 8, _ => 2 };
            i += 2;
        }
        else if (numberBase == 0)
        {
            numberBase = 10;
        }

        if (numberBase is < 2 or > 36 || i >= s.Length)
        {
            return false;
        }

        decimal acc = 0;
        for (; i < s.Length; i++)
        {
            var c = char.ToLowerInvariant(s[i]);
            var digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : 99;
            if (digit >= numberBase)
            {
                return false;
            }

            acc = (acc * numberBase) + digit;
            if (acc > long.MaxValue + 1m)
            {
                return false;
            }
        }

        acc = negative ? -acc : acc;
        if (acc > long.MaxValue || acc < long.MinValue)
        {
            return false;
        }

        value = (long)acc;
        return true;
    }

    public static bool TryFloat(string s, out double d)
    {
        s = s.Trim();
        switch (s.ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity" or "+infinity":
                d = double.PositiveInfinity;
                return true;
            case "-inf" or "-infinity":
                d = double.NegativeInfinity;
                return true;
            case "nan" or "+nan" or "-nan":
                d = double.NaN;
                return true;
        }

        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d) && !s.Contains('∞', StringComparison.Ordinal);
    }

    private static Value ToFloat(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'float'", ["default"]);
        return TryToFloat(v, out var d) ? Value.Float(d) : b.Get(0, Value.Float(0));
    }

    public static bool TryToFloat(Value v, out double d)
    {
        switch (v.Kind)
        {
            case ValueKind.Int:
            case ValueKind.Float:
                d = v.AsDouble;
                return true;
            case ValueKind.Bool:
                d = v.BoolValue ? 1 : 0;
                return true;
            case ValueKind.String:
                return TryFloat(v.StringValue.Replace("_", string.Empty, StringComparison.Ordinal), out d);
            default:
                d = 0;
                return false;
        }
    }

    /// <summary>Ansible's bool: yes/on/true/1/y/t (any case) are true, other strings false; other values by truthiness.</summary>
    public static bool ToBool(Value v) => v.Kind switch
    {
        ValueKind.String => v.StringValue.Trim().ToLowerInvariant() is "yes" or "on" or "true" or "1" or "y" or "t",
        _ => Ops.Truthy(v),
    };

    public static Value ToList(RenderState st, Value v) => Value.List(Seq(st, v));

    // ---- sequences ----

    private static Value FirstOrLast(RenderState st, Value v, bool first)
    {
        if (v.Kind == ValueKind.String)
        {
            return v.StringValue.Length == 0 ? Value.Missing(first ? "first" : "last")
                : Value.Str(first ? v.StringValue[..1] : v.StringValue[^1..]);
        }

        if (v.Kind == ValueKind.List)
        {
            return v.Count == 0 ? Value.Missing(first ? "first" : "last") : v.ItemAt(first ? 0 : v.Count - 1);
        }

        var items = Ops.Iterate(st, v);
        return items.Count == 0 ? Value.Missing(first ? "first" : "last") : items[first ? 0 : ^1];
    }

    private static Value Reverse(RenderState st, Value v)
    {
        if (v.Kind == ValueKind.String)
        {
            var runes = v.StringValue.EnumerateRunes().ToArray();
            Array.Reverse(runes);
            return Value.Str(string.Concat(runes.Select(r => r.ToString())));
        }

        var items = Seq(st, v);
        items.Reverse();
        return Value.List(items);
    }

    /// <summary>The value a sort, min, max or unique compares: an attribute of it, lowercased unless case-sensitive.</summary>
    private static Value SortKey(RenderState st, Value item, string? attribute, bool caseSensitive)
    {
        var key = attribute is null ? item : Ops.Attribute(st, item, attribute);
        return !caseSensitive && key.Kind == ValueKind.String ? Value.Str(key.StringValue.ToLowerInvariant()) : key;
    }

    /// <summary>A stable sort whose comparison may throw a template error (which List.Sort would wrap).</summary>
    private static void StableSort(List<(Value Key, Value Item, int Index)> rows, RenderState st, bool reverse)
    {
        try
        {
            rows.Sort((x, y) =>
            {
                var c = Ops.Order(st, x.Key, y.Key, "<");
                return c != 0 ? (reverse ? -c : c) : x.Index.CompareTo(y.Index);
            });
        }
        catch (InvalidOperationException ex) when (ex.InnerException is TemplateException inner)
        {
            ExceptionDispatchInfo.Throw(inner);
        }
    }

    private static Value Sort(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'sort'", ["reverse", "case_sensitive", "attribute"]);
        var attribute = b.Has(2) ? b.RequiredString(2) : null;
        var caseSensitive = b.Bool(1, false);
        var items = Seq(st, v);
        var rows = new List<(Value Key, Value Item, int Index)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            rows.Add((SortKey(st, items[i], attribute, caseSensitive), items[i], i));
        }

        StableSort(rows, st, b.Bool(0, false));
        return Value.List(rows.ConvertAll(r => r.Item));
    }

    /// <summary>A text key under which equal values (1 and 1.0, 'A' and 'a' unless case-sensitive) collide.</summary>
    private static string IdentityKey(RenderState st, Value key) => key.Kind switch
    {
        ValueKind.String => "s:" + key.StringValue,
        ValueKind.Int => "n:" + key.IntValue.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float when key.FloatValue == Math.Truncate(key.FloatValue) && Math.Abs(key.FloatValue) < 9e18 =>
            "n:" + ((long)key.FloatValue).ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => "n:" + TextForm.FormatFloat(key.FloatValue),
        ValueKind.Bool => key.BoolValue ? "b:1" : "b:0",
        ValueKind.None or ValueKind.Undefined => "none",
        _ => "j:" + TextForm.Json(st, key, null, sortKeys: true),
    };

    private static Value Unique(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'unique'", ["case_sensitive", "attribute"]);
        var attribute = b.Has(1) ? b.RequiredString(1) : null;
        var caseSensitive = b.Bool(0, false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<Value>();
        foreach (var item in Seq(st, v))
        {
            if (seen.Add(IdentityKey(st, SortKey(st, item, attribute, caseSensitive))))
            {
                result.Add(item);
            }
        }

        return Value.List(result);
    }

    private static Value MinMax(RenderState st, Value v, Args a, string name, bool wantMax)
    {
        var b = a.Bind(st, $"filter '{name}'", ["case_sensitive", "attribute"]);
        var attribute = b.Has(1) ? b.RequiredString(1) : null;
        var caseSensitive = b.Bool(0, false);
        var items = Seq(st, v);
        if (items.Count == 0)
        {
            return Value.Missing(name);
        }

        var best = items[0];
        var bestKey = SortKey(st, best, attribute, caseSensitive);
        for (var i = 1; i < items.Count; i++)
        {
            var key = SortKey(st, items[i], attribute, caseSensitive);
            var c = Ops.Order(st, key, bestKey, wantMax ? ">" : "<");
            if (wantMax ? c > 0 : c < 0)
            {
                best = items[i];
                bestKey = key;
            }
        }

        return best;
    }

    private static Value Sum(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'sum'", ["attribute", "start"]);
        var attribute = b.Has(0) && !b.Get(0).IsNoneOrUndefined ? b.RequiredString(0) : null;
        var total = b.Get(1, Value.Int(0));
        foreach (var item in Seq(st, v))
        {
            total = Ops.Binary(st, BinaryOp.Add, total, attribute is null ? item : Ops.Attribute(st, item, attribute));
        }

        return total;
    }

    private static Value Abs(RenderState st, Value v) => v.Kind switch
    {
        ValueKind.Int => v.IntValue == long.MinValue ? Value.Float(-(double)long.MinValue) : Value.Int(Math.Abs(v.IntValue)),
        ValueKind.Float => Value.Float(Math.Abs(v.FloatValue)),
        ValueKind.Undefined => throw st.UndefinedError(v),
        _ => throw st.Error($"filter 'abs' needs a number, not '{Value.KindName(v)}'"),
    };

    private static Value Round(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'round'", ["precision", "method"]);
        if (!v.IsNumber)
        {
            throw v.IsUndefined ? st.UndefinedError(v) : st.Error($"filter 'round' needs a number, not '{Value.KindName(v)}'");
        }

        var precision = (int)Math.Clamp(b.Int(0, 0), -15, 15);
        var method = b.String(1, "common");
        var x = v.AsDouble;
        var scale = Math.Pow(10, precision);
        var result = method switch
        {
            // Python 3's round, which Jinja's "common" uses: halves go to the even neighbour.
            "common" => precision >= 0 ? Math.Round(x, precision, MidpointRounding.ToEven) : Math.Round(x * scale, MidpointRounding.ToEven) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw st.Error("filter 'round': method must be 'common', 'ceil' or 'floor'"),
        };
        return Value.Float(result);
    }

    private static FilterDef FilterNamed(RenderState st, Value name)
    {
        var n = name.Kind == ValueKind.String ? name.StringValue : TextForm.SoftStr(st, name);
        return All.TryGetValue(n, out var f) ? f : throw st.Error($"unknown filter '{n}'");
    }

    private static TestDef TestNamed(RenderState st, Value name)
    {
        var n = name.Kind == ValueKind.String ? name.StringValue : TextForm.SoftStr(st, name);
        return Tests.TryGetValue(n, out var t) ? t : throw st.Error($"unknown test '{n}'");
    }

    private static Value Map(RenderState st, Value v, Args a)
    {
        var items = Seq(st, v);
        var result = new List<Value>(items.Count);
        if (a.Count == 0)
        {
            var b = a.Bind(st, "filter 'map'", ["attribute", "default"]);
            var attribute = b.RequiredString(0);
            foreach (var item in items)
            {
                var x = Ops.Attribute(st, item, attribute);
                result.Add(x.IsUndefined && b.Has(1) ? b.Get(1) : x);
            }

            return Value.List(result);
        }

        var filter = FilterNamed(st, a.Positional[0]);
        var rest = new Args(a.Positional[1..], a.Named);
        foreach (var item in items)
        {
            st.Step();
            result.Add(filter.Invoke(st, item, rest));
        }

        return Value.List(result);
    }

    private static Value Select(RenderState st, Value v, Args a, string name, bool byAttribute, bool keep)
    {
        var skip = byAttribute ? 1 : 0;
        if (a.Named.Length > 0)
        {
            throw st.Error($"filter '{name}' takes no named arguments");
        }

        if (byAttribute && a.Count == 0)
        {
            throw st.Error($"filter '{name}' needs the name of an attribute");
        }

        var attribute = byAttribute ? TextForm.SoftStr(st, a.Positional[0]) : null;
        var test = a.Count > skip ? TestNamed(st, a.Positional[skip]) : null;
        var rest = a.Count > skip + 1 ? new Args(a.Positional[(skip + 1)..], []) : Args.Empty;
        var result = new List<Value>();
        foreach (var item in Seq(st, v))
        {
            var x = attribute is null ? item : Ops.Attribute(st, item, attribute);
            var pass = test is null ? Ops.Truthy(x) : test.Invoke(st, x, rest);
            if (pass == keep)
            {
                result.Add(item);
            }
        }

        return Value.List(result);
    }

    private static Value Pair(string key, Value value) => Value.List([Value.Str(key), value]);

    public static Value Items(RenderState st, Value v, string name)
    {
        if (v.IsNoneOrUndefined && !st.Settings.StrictUndefined)
        {
            return Value.List([]);
        }

        if (v.Kind != ValueKind.Dict)
        {
            throw st.Error($"'{name}' needs a dict, not '{Value.KindName(v)}'");
        }

        st.Steps(v.Count);
        return Value.List(v.Entries().ConvertAll(kv => Pair(kv.Key, kv.Value)));
    }

    public static Value KeysOrValues(RenderState st, Value v, bool keys)
    {
        var pairs = Items(st, v, keys ? "keys" : "values");
        return Value.List(((List<Value>)pairs.Raw!).ConvertAll(p => p.ItemAt(keys ? 0 : 1)));
    }

    private static Value DictSort(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'dictsort'", ["case_sensitive", "by", "reverse"]);
        var caseSensitive = b.Bool(0, false);
        var by = b.String(1, "key");
        if (by is not ("key" or "value"))
        {
            throw st.Error("filter 'dictsort': by must be 'key' or 'value'");
        }

        var pairs = (List<Value>)Items(st, v, "dictsort").Raw!;
        var rows = new List<(Value Key, Value Item, int Index)>(pairs.Count);
        for (var i = 0; i < pairs.Count; i++)
        {
            var k = pairs[i].ItemAt(by == "key" ? 0 : 1);
            rows.Add((SortKey(st, k, null, caseSensitive), pairs[i], i));
        }

        StableSort(rows, st, b.Bool(2, false));
        return Value.List(rows.ConvertAll(r => r.Item));
    }

    // ---- regular expressions (StackStorm's st2 filters) ----

    /// <summary>
    /// Builds a .NET regex from a Python one: <c>(?P&lt;name&gt;…)</c> and <c>(?P=name)</c> are translated; the
    /// length is capped and evaluation has a timeout, so a pattern cannot hold a worker (ReDoS).
    /// </summary>
    private static Regex MakeRegex(RenderState st, string pattern, bool ignoreCase, bool anchored)
    {
        if (pattern.Length > st.Settings.MaxRegexLength)
        {
            throw st.Error(
                string.Create(CultureInfo.InvariantCulture, $"regular expression longer than {st.Settings.MaxRegexLength} characters"),
                "see TemplateOptions.MaxRegexLength");
        }

        var dotnet = pattern.Replace("(?P<", "(?<", StringComparison.Ordinal);
        dotnet = PythonBackReference().Replace(dotnet, @"\k<${name}>");
        if (anchored)
        {
            dotnet = @"\A(?:" + dotnet + ")";
        }

        var options = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        try
        {
            return new Regex(dotnet, options, st.Settings.RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw st.Error("invalid regular expression", ex.Message, ex);
        }
    }

    [GeneratedRegex(@"\(\?P=(?<name>\w+)\)", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, 1000)]
    private static partial Regex PythonBackReference();

    private static T WithTimeout<T>(RenderState st, Func<T> run)
    {
        try
        {
            return run();
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw st.Error(
                string.Create(CultureInfo.InvariantCulture, $"regular expression timed out after {st.Settings.RegexTimeout.TotalMilliseconds} ms"),
                "simplify the pattern; see TemplateOptions.RegexTimeout",
                ex);
        }
    }

    private static Value RegexTest(RenderState st, Value v, Args a, string name, bool anchored)
    {
        var b = a.Bind(st, $"filter '{name}'", ["pattern", "ignorecase"]);
        var regex = MakeRegex(st, b.RequiredString(0), b.Bool(1, false), anchored);
        var input = TextForm.SoftStr(st, v);
        return Value.Bool(WithTimeout(st, () => regex.IsMatch(input)));
    }

    /// <summary>
    /// Python's re.sub, built here rather than by Regex.Replace so that the size is checked before each piece is
    /// appended (a replacement like <c>\1\1\1</c> multiplies the input) and each match costs a step.
    /// </summary>
    private static Value RegexReplace(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'regex_replace'", ["pattern", "replacement", "ignorecase"]);
        var regex = MakeRegex(st, b.RequiredString(0), b.Bool(2, false), anchored: false);
        var parts = PythonReplacement(st, regex, b.RequiredString(1));
        var input = TextForm.SoftStr(st, v);
        var sb = new StringBuilder();
        var last = 0;
        var match = WithTimeout(st, () => regex.Match(input));
        while (match.Success)
        {
            st.Step();
            long added = match.Index - last;
            foreach (var (literal, group) in parts)
            {
                added += literal?.Length ?? match.Groups[group].Length;
            }

            st.CheckLength(sb.Length + added);
            sb.Append(input, last, match.Index - last);
            foreach (var (literal, group) in parts)
            {
                sb.Append(literal ?? match.Groups[group].Value);
            }

            last = match.Index + match.Length;
            var current = match;
            match = WithTimeout(st, current.NextMatch);
        }

        st.CheckLength((long)sb.Length + (input.Length - last));
        sb.Append(input, last, input.Length - last);
        return Value.Str(sb.ToString());
    }

    private static Value RegexSubstring(RenderState st, Value v, Args a)
    {
        var b = a.Bind(st, "filter 'regex_substring'", ["pattern", "result_index", "ignorecase"]);
        var regex = MakeRegex(st, b.RequiredString(0), b.Bool(2, false), anchored: false);
        var input = TextForm.SoftStr(st, v);
        var index = b.Int(1, 0);

        // Python's re.findall: the whole match, or the first group when the pattern has groups.
        var found = new List<string>();
        var match = WithTimeout(st, () => regex.Match(input));
        while (match.Success)
        {
            st.Step();
            found.Add(match.Groups.Count > 1 ? match.Groups[1].Value : match.Value);
            var current = match;
            match = WithTimeout(st, current.NextMatch);
        }

        if (found.Count == 0)
        {
            throw st.Error("filter 'regex_substring': no match found");
        }

        if (index < 0)
        {
            index += found.Count;
        }

        return index >= 0 && index < found.Count
            ? Value.Str(found[(int)index])
            : throw st.Error("filter 'regex_substring': result_index is out of range");
    }

    /// <summary>
    /// Python's replacement syntax, parsed into literal text and group references: <c>\1</c>, <c>\g&lt;1&gt;</c>,
    /// <c>\g&lt;name&gt;</c>, and the escapes <c>\n \t \r \\</c>.
    /// </summary>
    private static List<(string? Literal, int Group)> PythonReplacement(RenderState st, Regex regex, string r)
    {
        var parts = new List<(string? Literal, int Group)>();
        var text = new StringBuilder();
        void Group(string name)
        {
            var number = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : regex.GroupNumberFromName(name);
            if (number < 0 || Array.IndexOf(regex.GetGroupNumbers(), number) < 0)
            {
                throw st.Error($"invalid group reference '{name}' in the replacement");
            }

            if (text.Length > 0)
            {
                parts.Add((text.ToString(), -1));
                text.Clear();
            }

            parts.Add((null, number));
        }

        for (var i = 0; i < r.Length; i++)
        {
            var c = r[i];
            if (c != '\\' || i + 1 >= r.Length)
            {
                text.Append(c);
                continue;
            }

            var next = r[i + 1];
            if (char.IsAsciiDigit(next))
            {
                var j = i + 1;
                while (j < r.Length && j < i + 3 && char.IsAsciiDigit(r[j]))
                {
                    j++;
                }

                Group(r[(i + 1)..j]);
                i = j - 1;
            }
            else if (next == 'g' && i + 2 < r.Length && r[i + 2] == '<' && r.IndexOf('>', i + 3) is var close and > 0)
            {
                Group(r[(i + 3)..close]);
                i = close;
            }
            else
            {
                text.Append(next switch { 'n' => "\n", 't' => "\t", 'r' => "\r", '\\' => "\\", _ => "\\" + next });
                i++;
            }
        }

        if (text.Length > 0)
        {
            parts.Add((text.ToString(), -1));
        }

        return parts;
    }

    // ---- tests ----

    private static FrozenDictionary<string, TestDef> BuildTests()
    {
        var d = new Dictionary<string, TestDef>(StringComparer.Ordinal);
        void Add(TestFn fn, params string[] names)
        {
            foreach (var n in names)
            {
                d.Add(n, new TestDef(n, fn));
            }
        }

        TestFn Kind(Func<Value, bool> f) => (st, v, a) => a.Count == 0 ? f(v) : throw st.Error("this test takes no arguments");
        TestFn Cmp(CompareOp op) => (st, v, a) => Ops.Compare(st, op, v, One(st, a));

        Add(Kind(v => !v.IsUndefined), "defined");
        Add(Kind(v => v.IsUndefined), "undefined");
        Add(Kind(v => v.Kind == ValueKind.None), "none");
        Add(Kind(v => v.Kind == ValueKind.String), "string");
        Add(Kind(v => v.IsNumber), "number");
        Add(Kind(v => v.Kind == ValueKind.Int), "integer");
        Add(Kind(v => v.Kind == ValueKind.Float), "float");
        Add(Kind(v => v.Kind == ValueKind.Bool), "boolean");
        Add(Kind(v => v.Kind == ValueKind.Dict), "mapping");
        Add(Kind(v => v.Kind is ValueKind.List or ValueKind.String or ValueKind.Dict), "sequence", "iterable");
        Add(Kind(v => v.Kind == ValueKind.Bool && v.BoolValue), "true");
        Add(Kind(v => v.Kind == ValueKind.Bool && !v.BoolValue), "false");
        Add(Kind(Ops.Truthy), "truthy");
        Add(Kind(v => !Ops.Truthy(v)), "falsy");
        Add(Kind(v => v.Kind == ValueKind.String && IsCase(v.StringValue, upper: false)), "lower");
        Add(Kind(v => v.Kind == ValueKind.String && IsCase(v.StringValue, upper: true)), "upper");
        Add((st, v, a) => Divisible(st, v, Value.Int(2), a), "even");
        Add((st, v, a) => !Divisible(st, v, Value.Int(2), a), "odd");
        Add((st, v, a) => Divisible(st, v, One(st, a), Args.Empty), "divisibleby");
        Add(Cmp(CompareOp.Eq), "eq", "equalto", "==");
        Add(Cmp(CompareOp.Ne), "ne", "!=");
        Add(Cmp(CompareOp.Lt), "lt", "lessthan", "<");
        Add(Cmp(CompareOp.Le), "le", "<=");
        Add(Cmp(CompareOp.Gt), "gt", "greaterthan", ">");
        Add(Cmp(CompareOp.Ge), "ge", ">=");
        Add((st, v, a) => Ops.Contains(st, One(st, a), v), "in");
        Add((st, v, a) => SameAs(v, One(st, a)), "sameas");
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Python's islower/isupper: at least one cased character, and none of the other case.</summary>
    private static bool IsCase(string s, bool upper)
    {
        var cased = false;
        foreach (var c in s)
        {
            if (upper ? char.IsLower(c) : char.IsUpper(c))
            {
                return false;
            }

            cased |= char.IsLetter(c) && (char.IsUpper(c) || char.IsLower(c));
        }

        return cased;
    }

    private static Value One(RenderState st, Args a) =>
        a.Count == 1 && a.Named.Length == 0 ? a.Positional[0] : throw st.Error("this test takes exactly one argument");

    private static bool Divisible(RenderState st, Value v, Value by, Args a)
    {
        if (a.Count > 0)
        {
            throw st.Error("this test takes no arguments");
        }

        if (v.Kind != ValueKind.Int || by.Kind != ValueKind.Int)
        {
            throw st.Error("odd, even and divisibleby need integers");
        }

        return by.IntValue != 0 ? v.IntValue % by.IntValue == 0 : throw st.Error("division by zero");
    }

    private static bool SameAs(Value a, Value b)
    {
        if (a.Kind != b.Kind)
        {
            return false;
        }

        return a.Kind switch
        {
            ValueKind.None or ValueKind.Undefined => true,
            ValueKind.Bool or ValueKind.Int => a.IntValue == b.IntValue,
            ValueKind.Float => a.FloatValue.Equals(b.FloatValue),
            ValueKind.String => a.StringValue == b.StringValue,
            _ => ReferenceEquals(a.Raw, b.Raw),
        };
    }
}
