using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Rules;

/// <summary>
/// A criteria key such as <c>trigger.body.alerts[0].labels['alert-name']</c>: a root name (<c>trigger</c>, or
/// <c>item</c> inside a <c>search</c>), then fields by dot or by bracket (<c>['a-b']</c> for names that are not
/// identifiers), list indexes (<c>[0]</c>, <c>[-1]</c>) and wildcards (<c>*</c>, <c>[*]</c>). As in StackStorm
/// (jsonpath), when a wildcard finds several values the first one is used; a key that finds nothing, like one whose
/// value is JSON null, has no value (<c>exists</c> is false).
/// </summary>
public sealed class PayloadPath
{
    /// <summary>The longest key accepted; anything longer is refused rather than parsed.</summary>
    public const int MaxLength = 512;

    private readonly Segment[] _segments;

    private PayloadPath(string text, string root, Segment[] segments)
    {
        Text = text;
        Root = root;
        _segments = segments;
    }

    /// <summary>The key as written.</summary>
    public string Text { get; }

    /// <summary>The first name of the key: <c>trigger</c> or <c>item</c>.</summary>
    public string Root { get; }

    /// <summary>Parses a key; the message of the exception says what is wrong with it, for a pack author.</summary>
    /// <exception cref="FormatException">The key does not parse.</exception>
    public static PayloadPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            throw new FormatException("the key is empty");
        }

        if (text.Length > MaxLength)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"the key is longer than {MaxLength} characters"));
        }

        var segments = new List<Segment>();
        var pos = 0;
        var root = ReadName(text, ref pos);
        if (root.Length == 0)
        {
            throw new FormatException("the key must start with a name such as 'trigger'");
        }

        while (pos < text.Length)
        {
            var c = text[pos];
            if (c == '.')
            {
                pos++;
                if (pos < text.Length && text[pos] == '*')
                {
                    pos++;
                    segments.Add(Segment.Wildcard);
                    continue;
                }

                var name = ReadName(text, ref pos);
                if (name.Length == 0)
                {
                    throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"a field name is missing at column {pos + 1}"));
                }

                segments.Add(Segment.Field(name));
            }
            else if (c == '[')
            {
                segments.Add(ReadBracket(text, ref pos));
            }
            else
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"unexpected '{c}' at column {pos + 1}; use ['{c}…'] for field names with such characters"));
            }
        }

        return new PayloadPath(text, root, [.. segments]);
    }

    /// <summary>Parses, or returns null with the reason.</summary>
    public static PayloadPath? TryParse(string text, out string? error)
    {
        try
        {
            error = null;
            return Parse(text);
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>
    /// The value the key finds under <paramref name="root"/> (the node the root name stands for), or null when it
    /// finds none or finds JSON null.
    /// </summary>
    public JsonNode? Find(JsonNode? root)
    {
        var current = new List<JsonNode?> { root };
        foreach (var segment in _segments)
        {
            var next = new List<JsonNode?>();
            foreach (var node in current)
            {
                segment.Apply(node, next);
            }

            if (next.Count == 0)
            {
                return null;
            }

            current = next;
        }

        return current.FirstOrDefault(n => n is not null);
    }

    public override string ToString() => Text;

    private static string ReadName(string text, ref int pos)
    {
        var start = pos;
        while (pos < text.Length && text[pos] is not ('.' or '[' or ']' or '\'' or '"' or ' '))
        {
            pos++;
        }

        return text[start..pos];
    }

    private static Segment ReadBracket(string text, ref int pos)
    {
        var open = pos;
        pos++; // [
        if (pos < text.Length && text[pos] is '\'' or '"')
        {
            var quote = text[pos++];
            var sb = new StringBuilder();
            while (pos < text.Length && text[pos] != quote)
            {
                if (text[pos] == '\\' && pos + 1 < text.Length)
                {
                    pos++;
                }

                sb.Append(text[pos++]);
            }

            if (pos + 1 >= text.Length || text[pos + 1] != ']')
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"the bracket at column {open + 1} is not closed with {quote}]"));
            }

            pos += 2;
            return Segment.Field(sb.ToString());
        }

        var close = text.IndexOf(']', pos);
        if (close < 0)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"the bracket at column {open + 1} is not closed"));
        }

        var inner = text[pos..close].Trim();
        pos = close + 1;
        if (inner == "*")
        {
            return Segment.Wildcard;
        }

        if (int.TryParse(inner, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
        {
            return Segment.Index(index);
        }

        throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"[{inner}] at column {open + 1} is neither a list index, '*', nor a quoted field name"));
    }

    private sealed class Segment
    {
        private readonly string? _name;
        private readonly int _index;
        private readonly bool _wildcard;

        private Segment(string? name, int index, bool wildcard)
        {
            _name = name;
            _index = index;
            _wildcard = wildcard;
        }

        public static Segment Wildcard { get; } = new(null, 0, wildcard: true);

        public static Segment Field(string name) => new(name, 0, wildcard: false);

        public static Segment Index(int index) => new(null, index, wildcard: false);

        public void Apply(JsonNode? node, List<JsonNode?> output)
        {
            switch (node)
            {
                case JsonObject obj when _wildcard:
                    output.AddRange(obj.Select(p => p.Value));
                    break;
                case JsonArray arr when _wildcard:
                    output.AddRange(arr);
                    break;
                case JsonObject obj when _name is not null:
                    if (obj.TryGetPropertyValue(_name, out var value))
                    {
                        output.Add(value);
                    }

                    break;
                case JsonArray arr when _name is null:
                    var i = _index < 0 ? arr.Count + _index : _index;
                    if (i >= 0 && i < arr.Count)
                    {
                        output.Add(arr[i]);
                    }

                    break;
            }
        }
    }
}
