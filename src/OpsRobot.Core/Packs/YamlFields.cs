using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

/// <summary>
/// Typed reads of a YAML mapping's fields that record an error at the exact line and column of anything wrong,
/// so that one pass over a file reports every problem in it.
/// </summary>
internal sealed class YamlFields(string file, YamlMappingNode mapping, List<PackError> errors)
{
    public string File { get; } = file;

    public YamlMappingNode Mapping { get; } = mapping;

    public List<PackError> Errors { get; } = errors;

    public bool Has(string key) => Mapping.Children.ContainsKey(new YamlScalarNode(key));

    public YamlNode? Node(string key) => Mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public void Error(YamlNode? node, string message) =>
        Errors.Add(new PackError(File, (int)(node?.Start.Line ?? Mapping.Start.Line), (int)(node?.Start.Column ?? Mapping.Start.Column), message));

    public string? String(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null || IsNull(node))
        {
            if (required)
            {
                Error(node, node is null ? $"missing required field '{key}'" : $"field '{key}' is empty");
            }

            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            Error(node, $"field '{key}' must be a single value");
            return null;
        }

        if (required && string.IsNullOrWhiteSpace(scalar.Value))
        {
            Error(node, $"field '{key}' is empty");
            return null;
        }

        return scalar.Value;
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on":
                return true;
            case "false" or "no" or "off":
                return false;
            default:
                Error(Node(key), $"field '{key}' must be true or false, not '{text}'");
                return null;
        }
    }

    public long? Integer(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Error(Node(key), $"field '{key}' must be a whole number between {min} and {max}, not '{text}'");
            return null;
        }

        return value;
    }

    public YamlMappingNode? MappingField(string key)
    {
        var node = Node(key);
        if (node is null || IsNull(node))
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(node, $"field '{key}' must be a mapping (key: value lines)");
            return null;
        }

        return mapping;
    }

    public YamlSequenceNode? SequenceField(string key)
    {
        var node = Node(key);
        if (node is null || IsNull(node))
        {
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            Error(node, $"field '{key}' must be a list");
            return null;
        }

        return sequence;
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>
    /// Converts a YAML value to JSON with YAML's core schema: plain scalars that read as booleans, numbers or null
    /// become those; quoted scalars stay strings.
    /// </summary>
    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlScalarNode s when s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded => JsonValue.Create(s.Value ?? string.Empty),
        YamlScalarNode s when IsNull(s) => null,
        YamlScalarNode s => PlainScalar(s.Value!),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToJson)]),
        YamlMappingNode map => ToJsonObject(map),
        _ => null,
    };

    private static JsonObject ToJsonObject(YamlMappingNode map)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            obj[(key as YamlScalarNode)?.Value ?? key.ToString()] = ToJson(value);
        }

        return obj;
    }

    private static JsonValue PlainScalar(string text)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && text.Any(char.IsDigit))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(text);
    }
}
