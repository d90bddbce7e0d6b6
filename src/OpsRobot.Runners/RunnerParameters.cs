using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners;

/// <summary>
/// Reading runner parameters (<c>cmd</c>, <c>url</c>, <c>hosts</c>, …) out of an execution's typed parameters: the one
/// place every runner, built-in or in OpsRobot.Integrations, checks a value's JSON type and words the sentence a user
/// reads when it is wrong. Absent and JSON null are the same thing everywhere ("not given"). The error sentences name
/// the parameter and the type it had, never its value, which may be a secret.
/// </summary>
public static class RunnerParameters
{
    /// <summary>The value of a parameter, or null when it is absent or JSON null.</summary>
    public static JsonNode? Get(IReadOnlyDictionary<string, JsonNode?> parameters, string name)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.TryGetValue(name, out var value) && value is not null && value.GetValueKind() != JsonValueKind.Null ? value : null;
    }

    /// <summary>
    /// The text of a parameter that is a JSON string, or null when it is absent or of another type. For runners that
    /// treat a wrong type as "not given" and then say what is missing; <see cref="TryGetString"/> names the wrong type.
    /// </summary>
    public static string? GetString(IReadOnlyDictionary<string, JsonNode?> parameters, string name) =>
        Get(parameters, name) is { } node && node.GetValueKind() == JsonValueKind.String ? StringOf(node) : null;

    /// <summary>True only when the parameter is the JSON value <c>true</c> (a flag such as <c>sudo</c> or <c>replace</c>).</summary>
    public static bool IsTrue(IReadOnlyDictionary<string, JsonNode?> parameters, string name) =>
        Get(parameters, name)?.GetValueKind() == JsonValueKind.True;

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

    /// <summary>
    /// A parameter that must be <c>true</c> or <c>false</c> when present; a missing one is a success with
    /// <paramref name="fallback"/>. Returns false (with a sentence for the user) for any other type.
    /// </summary>
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

    /// <summary>
    /// A parameter that must be a finite number when present, given as a JSON number or as a string that reads as one
    /// (a chat alias passes everything as text). A missing parameter is a success with a null value; anything else,
    /// including NaN and infinities, returns false with a sentence for the user.
    /// </summary>
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
            && double.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number))
        {
            value = number;
            return true;
        }

        // "NaN", "Infinity" and "1e999" parse, but no timeout, port or count is made of them.
        if (node.GetValueKind() == JsonValueKind.String
            && double.TryParse(StringOf(node), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            && double.IsFinite(parsed))
        {
            value = parsed;
            return true;
        }

        error = $"Parameter '{name}' must be a number, not {Describe(node)}.";
        return false;
    }

    /// <summary>
    /// A parameter that must be a JSON object when present (<c>env</c>, <c>headers</c>). A missing parameter is a
    /// success with a null value; any other type returns false with a sentence for the user.
    /// </summary>
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
    /// A parameter that is a list of words: a JSON array of strings (numbers are taken as their text), or one string.
    /// With <paramref name="commaSeparated"/> the string is split on commas and its items trimmed (StackStorm's
    /// <c>hosts: web1,web2</c>); without, it is a list of that one string (an argument may contain commas).
    /// A missing parameter is a success with a null value; anything else returns false with a sentence for the user.
    /// </summary>
    public static bool TryGetStringList(IReadOnlyDictionary<string, JsonNode?> parameters, string name, bool commaSeparated, out IReadOnlyList<string>? value, out string? error)
    {
        value = null;
        error = null;
        var node = Get(parameters, name);
        switch (node)
        {
            case null:
                return true;
            case JsonArray array:
                var items = new List<string>(array.Count);
                foreach (var item in array)
                {
                    if (item is null || item.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number))
                    {
                        error = $"Parameter '{name}' must be a list of strings, not a list holding {Describe(item)}.";
                        return false;
                    }

                    items.Add(ToText(item));
                }

                value = items;
                return true;
            case JsonValue when node.GetValueKind() == JsonValueKind.String:
                var text = StringOf(node);
                value = commaSeparated ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [text];
                return true;
            default:
                error = commaSeparated
                    ? $"Parameter '{name}' must be a list of strings (or one comma-separated string), not {Describe(node)}."
                    : $"Parameter '{name}' must be a list of strings, not {Describe(node)}.";
                return false;
        }
    }

    /// <summary>
    /// A value as a process or header sees it: strings as they are, everything else as compact JSON
    /// (<c>5</c>, <c>true</c>, <c>["a","b"]</c>, <c>{"k":"v"}</c>).
    /// </summary>
    public static string ToText(JsonNode node) =>
        (node ?? throw new ArgumentNullException(nameof(node))).GetValueKind() == JsonValueKind.String ? StringOf(node) : node.ToJsonString();

    /// <summary>
    /// The text of a JSON string, whatever CLR value backs it (a value built from a <see cref="Guid"/> or a
    /// <see cref="DateTimeOffset"/> is a JSON string too, but GetValue&lt;string&gt;() would throw on it).
    /// </summary>
    public static string StringOf(JsonNode node) =>
        (node ?? throw new ArgumentNullException(nameof(node))) is JsonValue value && value.TryGetValue<string>(out var text) ? text : JsonSerializer.Deserialize<string>(node.ToJsonString()) ?? string.Empty;

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
        (action ?? throw new ArgumentNullException(nameof(action))).Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
}
