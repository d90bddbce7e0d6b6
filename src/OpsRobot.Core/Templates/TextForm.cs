using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>
/// How values become text: Python's <c>str()</c> for output (what Jinja prints), Python's <c>repr()</c> inside lists
/// and dicts, and JSON for <c>tojson</c>. Every builder here is bounded by the output limit and the depth limit.
/// </summary>
internal static class TextForm
{
    /// <summary>The text a value prints as (Python's <c>str()</c>).</summary>
    public static string Str(RenderState st, Value v) => v.Kind switch
    {
        ValueKind.String => v.StringValue,
        ValueKind.Undefined => st.Settings.StrictUndefined ? throw st.UndefinedError(v) : string.Empty,
        ValueKind.None => "None",
        ValueKind.Bool => v.BoolValue ? "True" : "False",
        ValueKind.Int => v.IntValue.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => FormatFloat(v.FloatValue),
        _ => Repr(st, v),
    };

    /// <summary>Like <see cref="Str"/>, but an undefined value is always empty (filters treat it so, as Jinja does).</summary>
    public static string SoftStr(RenderState st, Value v) => v.IsUndefined ? string.Empty : Str(st, v);

    public static string Repr(RenderState st, Value v)
    {
        var sb = new StringBuilder();
        AppendRepr(st, sb, v, 0);
        return sb.ToString();
    }

    private static void AppendRepr(RenderState st, StringBuilder sb, Value v, int depth)
    {
        st.CheckDepth(depth);
        switch (v.Kind)
        {
            case ValueKind.String:
                AppendStringRepr(sb, v.StringValue);
                break;
            case ValueKind.Undefined:
                sb.Append("Undefined");
                break;
            case ValueKind.List:
                sb.Append('[');
                for (var i = 0; i < v.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    AppendRepr(st, sb, v.ItemAt(i), depth + 1);
                    st.CheckLength(sb.Length);
                }

                sb.Append(']');
                break;
            case ValueKind.Dict:
                sb.Append('{');
                var first = true;
                foreach (var kv in v.Entries())
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    AppendStringRepr(sb, kv.Key);
                    sb.Append(": ");
                    AppendRepr(st, sb, kv.Value, depth + 1);
                    st.CheckLength(sb.Length);
                }

                sb.Append('}');
                break;
            case ValueKind.Loop:
                sb.Append(CultureInfo.InvariantCulture, $"<loop {v.LoopValue.Index0 + 1}/{v.LoopValue.Length}>");
                break;
            default:
                sb.Append(Str(st, v));
                break;
        }

        st.CheckLength(sb.Length);
    }

    /// <summary>Python's repr of a string: single quotes unless the text has one and no double quote.</summary>
    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\':
                    sb.Append(@"\\");
                    break;
                case '\n':
                    sb.Append(@"\n");
                    break;
                case '\r':
                    sb.Append(@"\r");
                    break;
                case '\t':
                    sb.Append(@"\t");
                    break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < ' ' || c == '\x7f')
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append(quote);
    }

    /// <summary>
    /// Python's repr of a float: the shortest text that reads back as the same number, always with a decimal point
    /// or an exponent (<c>1.0</c>, <c>0.1</c>, <c>1e+16</c>, <c>1e-05</c>), <c>inf</c> and <c>nan</c>.
    /// </summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        // .NET's "R" is already the shortest round-trip form; only the layout differs from Python's.
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r[0] == '-';
        if (negative)
        {
            r = r[1..];
        }

        var e = r.IndexOf('E', StringComparison.Ordinal);
        var mantissa = e < 0 ? r : r[..e];
        var exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var digits = dot < 0 ? intPart : intPart + mantissa[(dot + 1)..];
        var point = intPart.Length + exponent;
        var lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
        }

        digits = digits[lead..].TrimEnd('0');
        point -= lead;
        var sb = new StringBuilder(24);
        if (negative)
        {
            sb.Append('-');
        }

        if (point > 16 || point < -3)
        {
            var exp = point - 1;
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            sb.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (point <= 0)
        {
            sb.Append("0.").Append('0', -point).Append(digits);
        }
        else if (point >= digits.Length)
        {
            sb.Append(digits).Append('0', point - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
        }

        return sb.ToString();
    }

    /// <summary>
    /// JSON text in the layout of Python's <c>json.dumps</c> (<c>{"a": 1, "b": [1, 2]}</c>), keys in their order
    /// unless <paramref name="sortKeys"/>; with <paramref name="indent"/>, one item per line.
    /// </summary>
    public static string Json(RenderState st, Value v, int? indent, bool sortKeys)
    {
        var sb = new StringBuilder();
        AppendJson(st, sb, v, indent, sortKeys, 0);
        return sb.ToString();
    }

    private static void AppendJson(RenderState st, StringBuilder sb, Value v, int? indent, bool sortKeys, int depth)
    {
        st.CheckDepth(depth);
        switch (v.Kind)
        {
            case ValueKind.Undefined:
            case ValueKind.None:
                sb.Append("null");
                break;
            case ValueKind.Bool:
                sb.Append(v.BoolValue ? "true" : "false");
                break;
            case ValueKind.Int:
                sb.Append(v.IntValue.ToString(CultureInfo.InvariantCulture));
                break;
            case ValueKind.Float:
                sb.Append(JsonNumber(st, v.FloatValue));
                break;
            case ValueKind.String:
                sb.Append('"');
                AppendJsonEscaped(sb, v.StringValue);
                sb.Append('"');
                break;
            case ValueKind.List:
                if (v.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append('[');
                for (var i = 0; i < v.Count; i++)
                {
                    Separator(sb, indent, depth + 1, i == 0);
                    AppendJson(st, sb, v.ItemAt(i), indent, sortKeys, depth + 1);
                    st.CheckLength(sb.Length);
                }

                Close(sb, indent, depth);
                sb.Append(']');
                break;
            case ValueKind.Dict:
                var entries = v.Entries();
                if (entries.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }

                if (sortKeys)
                {
                    entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                }

                sb.Append('{');
                for (var i = 0; i < entries.Count; i++)
                {
                    Separator(sb, indent, depth + 1, i == 0);
                    sb.Append('"');
                    AppendJsonEscaped(sb, entries[i].Key);
                    sb.Append("\": ");
                    AppendJson(st, sb, entries[i].Value, indent, sortKeys, depth + 1);
                    st.CheckLength(sb.Length);
                }

                Close(sb, indent, depth);
                sb.Append('}');
                break;
            default:
                throw st.Error("a loop object cannot be converted to JSON");
        }

        st.CheckLength(sb.Length);
    }

    private static void Separator(StringBuilder sb, int? indent, int depth, bool first)
    {
        if (indent is { } n)
        {
            if (!first)
            {
                sb.Append(',');
            }

            sb.Append('\n').Append(' ', n * depth);
        }
        else if (!first)
        {
            sb.Append(", ");
        }
    }

    private static void Close(StringBuilder sb, int? indent, int depth)
    {
        if (indent is { } n)
        {
            sb.Append('\n').Append(' ', n * depth);
        }
    }

    private static string JsonNumber(RenderState st, double d) =>
        double.IsFinite(d) ? FormatFloat(d) : throw st.Error($"{FormatFloat(d)} cannot be represented in JSON");

    /// <summary>Escapes text for the inside of a JSON string (quotes, backslashes, control characters).</summary>
    public static void AppendJsonEscaped(StringBuilder sb, string s)
    {
        foreach (var c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append(@"\\");
                    break;
                case '\n':
                    sb.Append(@"\n");
                    break;
                case '\r':
                    sb.Append(@"\r");
                    break;
                case '\t':
                    sb.Append(@"\t");
                    break;
                case '\b':
                    sb.Append(@"\b");
                    break;
                case '\f':
                    sb.Append(@"\f");
                    break;
                default:
                    if (c < ' ')
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// A fresh JSON tree for a value: nothing in it is shared with the caller's context, so it may be modified or
    /// attached elsewhere. Numbers are backed by JSON text, so <c>GetValue&lt;int&gt;()</c>, <c>&lt;long&gt;</c> and
    /// <c>&lt;double&gt;</c> all work on them.
    /// </summary>
    public static JsonNode? ToNode(RenderState st, Value v, int depth)
    {
        st.CheckDepth(depth);
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw st.Error("value nested too deeply");
        }

        switch (v.Kind)
        {
            case ValueKind.Undefined:
            case ValueKind.None:
                return null;
            case ValueKind.Bool:
                return JsonValue.Create(v.BoolValue);
            case ValueKind.Int:
                return JsonValue.Create(JsonElement.Parse(v.IntValue.ToString(CultureInfo.InvariantCulture)));
            case ValueKind.Float:
                return JsonValue.Create(JsonElement.Parse(JsonNumber(st, v.FloatValue)));
            case ValueKind.String:
                return JsonValue.Create(v.StringValue);
            case ValueKind.List:
                var array = new JsonArray();
                if (v.Raw is JsonArray source)
                {
                    foreach (var item in source)
                    {
                        array.Add(item is JsonValue leaf ? leaf.DeepClone() : ToNode(st, Value.FromNode(item), depth + 1));
                    }
                }
                else
                {
                    foreach (var item in (List<Value>)v.Raw!)
                    {
                        array.Add(ToNode(st, item, depth + 1));
                    }
                }

                return array;
            case ValueKind.Dict:
                var obj = new JsonObject();
                if (v.Raw is JsonObject sourceObject)
                {
                    foreach (var kv in sourceObject)
                    {
                        obj[kv.Key] = kv.Value is JsonValue leaf ? leaf.DeepClone() : ToNode(st, Value.FromNode(kv.Value), depth + 1);
                    }
                }
                else
                {
                    foreach (var kv in (OrderedDictionary<string, Value>)v.Raw!)
                    {
                        obj[kv.Key] = ToNode(st, kv.Value, depth + 1);
                    }
                }

                return obj;
            default:
                throw st.Error("a loop object cannot be converted to JSON");
        }
    }
}
