using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners;

/// <summary>Reading runner parameters (<c>cmd</c>, <c>url</c>, …) out of an execution's typed parameters.</summary>
internal static class RunnerParameters
{
    /// <summary>The value of a parameter, or null when it is absent or JSON null.</summary>
    public static JsonNode? Get(IReadOnlyDictionary<string, JsonNode?> parameters, string name) =>
        parameters.TryGetValue(name, out var value) && value is not null && value.GetValueKind() != JsonValueKind.Null ? value : null;

    /// <summary>
    /// A parameter that must be a string when present. Returns false (with a sentence for the user) when it has
    /// another type; a missing parameter is a success with a null value.
    /// </summary>
    public static bool TryGetString(IReadOnlyDictionary<string, JsonNode?> parameters, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        var node = Get(parameters, name);
        if (node is null)
        {
            return true;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            error = $"Parameter '{name}' must be a string, not {Describe(node)}.";
            return false;
        }

        value = StringOf(node);
        return true;
    }

    public static bool TryGetBoolean(IReadOnlyDictionary<string, JsonNode?> parameters, string name, bool fallback, out bool value, out string? error)
    {
        value = fallback;
        error = null;
        var node = Get(parameters, name);
        switch (node?.GetValueKind())
        {
            case null:
                return true;
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                value = false;
                return true;
            default:
                error = $"Parameter '{name}' must be true or false, not {Describe(node)}.";
                return false;
        }
    }

    public static bool TryGetNumber(IReadOnlyDictionary<string, JsonNode?> parameters, string name, out double? value, out string? error)
    {
        value = null;
        error = null;
        var node = Get(parameters, name);
        if (node is null)
        {
            return true;
        }

        // Through the JSON text: GetValue<double>() throws on a value built from an int, as loaders and callers do.
        if (node.GetValueKind() == JsonValueKind.Number
            && double.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            value = number;
            return true;
        }

        if (node.GetValueKind() == JsonValueKind.String
            && double.TryParse(StringOf(node), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return true;
        }

        error = $"Parameter '{name}' must be a number, not {Describe(node)}.";
        return false;
    }

    public static bool TryGetObject(IReadOnlyDictionary<string, JsonNode?> parameters, string name, out JsonObject? value, out string? error)
    {
        value = null;
        error = null;
        var node = Get(parameters, name);
        if (node is null)
        {
            return true;
        }

        if (node is not JsonObject obj)
        {
            error = $"Parameter '{name}' must be an object (a map of names to values), not {Describe(node)}.";
            return false;
        }

        value = obj;
        return true;
    }

    /// <summary>
    /// A value as a process or header sees it: strings as they are, everything else as compact JSON
    /// (<c>5</c>, <c>true</c>, <c>["a","b"]</c>, <c>{"k":"v"}</c>).
    /// </summary>
    public static string ToText(JsonNode node) =>
        node.GetValueKind() == JsonValueKind.String ? StringOf(node) : node.ToJsonString();

    /// <summary>
    /// The text of a JSON string, whatever CLR value backs it (a value built from a <see cref="Guid"/> or a
    /// <see cref="DateTimeOffset"/> is a JSON string too, but GetValue&lt;string&gt;() would throw on it).
    /// </summary>
    public static string StringOf(JsonNode node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : JsonSerializer.Deserialize<string>(node.ToJsonString()) ?? string.Empty;

    /// <summary>Names the type of a value without showing it (it may be a secret).</summary>
    public static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "an unknown value",
    };

    /// <summary>The declared parameter of that name, if the action declares it.</summary>
    public static ParameterDefinition? Declared(ActionDefinition action, string name) =>
        action.Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
}
