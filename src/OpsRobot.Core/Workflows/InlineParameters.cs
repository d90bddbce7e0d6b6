using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Workflows;

/// <summary>
/// Orquesta's inline <c>key=value</c> form, as written after an action (<c>action: core.echo message="hi"</c>) or as a
/// <c>publish</c> string (<c>publish: a=&lt;% result() %&gt; b=1</c>). A value is a double- or single-quoted string, an
/// expression (<c>&lt;% … %&gt;</c>, <c>{{ … }}</c>), or a bare word; bare <c>true</c>, <c>false</c>, <c>null</c>, numbers and
/// <c>[…]</c> / <c>{…}</c> JSON keep their type. Unlike Orquesta, which skips text it cannot read, anything that is not
/// a <c>key=value</c> pair is an error, so a typo is caught at load rather than silently dropped.
/// </summary>
public static class InlineParameters
{
    /// <summary>Parses <paramref name="text"/>; returns the pairs in order, or the first problem as a sentence.</summary>
    public static (IReadOnlyList<KeyValuePair<string, JsonNode?>>? Pairs, string? Error) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pairs = new List<KeyValuePair<string, JsonNode?>>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                return (pairs, null);
            }

            var keyStart = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
            {
                i++;
            }

            if (i == keyStart || i >= text.Length || text[i] != '=')
            {
                var end = i;
                while (end < text.Length && !char.IsWhiteSpace(text[end]))
                {
                    end++;
                }

                return (null, $"'{text[keyStart..end]}' is not a key=value pair (at character {keyStart + 1})");
            }

            var key = text[keyStart..i];
            i++;
            var valueStart = i;
            var (valueEnd, error) = ScanValue(text, i);
            if (error is not null)
            {
                return (null, $"the value of '{key}' {error}");
            }

            if (valueEnd == valueStart)
            {
                return (null, $"'{key}=' has no value; quote an empty string as {key}=\"\"");
            }

            if (pairs.Any(p => p.Key == key))
            {
                return (null, $"'{key}' is given twice");
            }

            pairs.Add(new(key, Convert(text[valueStart..valueEnd])));
            i = valueEnd;
        }
    }

    /// <summary>
    /// Splits <c>pack.name k=v …</c> into the action reference and its inline parameters (null when there are none).
    /// </summary>
    public static (string Action, IReadOnlyList<KeyValuePair<string, JsonNode?>>? Pairs, string? Error) SplitAction(string action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var trimmed = action.Trim();
        var space = trimmed.IndexOfAny([' ', '\t', '\n', '\r']);
        if (space < 0)
        {
            return (trimmed, null, null);
        }

        var (pairs, error) = Parse(trimmed[(space + 1)..]);
        return (trimmed[..space], pairs, error);
    }

    private static (int End, string? Error) ScanValue(string s, int i)
    {
        while (i < s.Length && !char.IsWhiteSpace(s[i]))
        {
            if (s[i] is '"' or '\'')
            {
                var quote = s[i];
                var j = i + 1;
                while (j < s.Length && s[j] != quote)
                {
                    j += s[j] == '\\' && quote == '"' ? 2 : 1;
                }

                if (j >= s.Length)
                {
                    return (0, $"has an opening {quote} without its closing one");
                }

                i = j + 1;
            }
            else if (At(s, i, "<%") || At(s, i, "{{") || At(s, i, "{%"))
            {
                var close = s[i] == '<' ? "%>" : s[i + 1] == '{' ? "}}" : "%}";
                var j = s.IndexOf(close, i + 2, StringComparison.Ordinal);
                if (j < 0)
                {
                    return (0, $"has an expression opened with '{s.Substring(i, 2)}' that is never closed with '{close}'");
                }

                i = j + 2;
            }
            else if (s[i] is '[' or '{')
            {
                var j = MatchBracket(s, i);
                if (j < 0)
                {
                    return (0, $"has an opening '{s[i]}' without its closing one");
                }

                i = j + 1;
            }
            else
            {
                i++;
            }
        }

        return (i, null);
    }

    private static int MatchBracket(string s, int i)
    {
        var depth = 0;
        for (var j = i; j < s.Length; j++)
        {
            switch (s[j])
            {
                case '[' or '{':
                    depth++;
                    break;
                case ']' or '}':
                    if (--depth == 0)
                    {
                        return j;
                    }

                    break;
                case '"':
                    j++;
                    while (j < s.Length && s[j] != '"')
                    {
                        j += s[j] == '\\' ? 2 : 1;
                    }

                    break;
            }
        }

        return -1;
    }

    private static bool At(string s, int i, string token) => string.CompareOrdinal(s, i, token, 0, token.Length) == 0;

    private static JsonNode? Convert(string raw)
    {
        if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"' && IsSingleQuoted(raw, '"'))
        {
            try
            {
                return JsonValue.Create(JsonSerializer.Deserialize<string>(raw));
            }
            catch (JsonException)
            {
                return JsonValue.Create(raw[1..^1]);
            }
        }

        if (raw.Length >= 2 && raw[0] == '\'' && raw[^1] == '\'' && IsSingleQuoted(raw, '\''))
        {
            return JsonValue.Create(raw[1..^1]);
        }

        switch (raw)
        {
            case "true":
                return JsonValue.Create(true);
            case "false":
                return JsonValue.Create(false);
            case "null":
                return null;
        }

        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return JsonValue.Create(whole);
        }

        if (double.TryParse(raw, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var fraction) && double.IsFinite(fraction))
        {
            return JsonValue.Create(fraction);
        }

        if (raw[0] is '[' or '{')
        {
            try
            {
                return JsonNode.Parse(raw);
            }
            catch (JsonException)
            {
                // Not JSON: a word that happens to start with a bracket.
            }
        }

        return JsonValue.Create(raw);
    }

    /// <summary>True when the whole text is one quoted string (not <c>"a" "b"</c> or <c>"a"b"</c>).</summary>
    private static bool IsSingleQuoted(string raw, char quote)
    {
        for (var j = 1; j < raw.Length - 1; j++)
        {
            if (raw[j] == '\\' && quote == '"')
            {
                j++;
            }
            else if (raw[j] == quote)
            {
                return false;
            }
        }

        return true;
    }
}
