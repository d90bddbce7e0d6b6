using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Actions;

/// <summary>A parameter a caller gave that does not fit the action's schema: names the parameter and what was expected.</summary>
public sealed class ParameterException : Exception
{
    public ParameterException()
    {
    }

    public ParameterException(string message)
        : base(message)
    {
    }

    public ParameterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ParameterException(string parameter, string message)
        : base(message)
    {
        Parameter = parameter;
    }

    public string? Parameter { get; }
}

/// <summary>Parameters checked against an action's schema: in clear for the runner, masked for everything else.</summary>
/// <param name="Values">In clear, for the runner.</param>
/// <param name="Masked">The action's secret parameters masked whole, for everything else.</param>
public sealed record BoundParameters(IReadOnlyDictionary<string, JsonNode?> Values, JsonObject Masked)
{
    /// <summary>
    /// The values of the secret parameters as text (see <see cref="SecretMasker.ValuesOf"/>): the execution masks them
    /// wherever else they show up, in its output and result above all.
    /// </summary>
    public IReadOnlyList<string> SecretValues { get; init; } = [];
}

/// <summary>
/// Checks and types the parameters of a request against the action's schema, the same way for every door:
/// text values (from chat, the CLI's key=value) are converted to the declared type; typed JSON (from the API)
/// must already have it. Defaults fill what is absent; immutable parameters cannot be set; secrets are masked
/// in the copy that gets stored and shown.
/// </summary>
public static class ParameterBinder
{
    /// <summary>The longest string value accepted for any parameter.</summary>
    public const int MaxStringLength = 1_000_000;

    public static BoundParameters Bind(ActionDefinition action, JsonObject? input)
    {
        ArgumentNullException.ThrowIfNull(action);
        input ??= [];
        var byName = action.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (name, _) in input)
        {
            if (!byName.TryGetValue(name, out var definition))
            {
                var known = action.Parameters.Where(p => !p.Immutable).Select(p => p.Name).ToList();
                throw new ParameterException(name, known.Count == 0
                    ? $"{action.Ref} takes no parameters, but '{name}' was given."
                    : $"{action.Ref} has no parameter '{name}'; it takes: {string.Join(", ", known)}.");
            }

            if (definition.Immutable)
            {
                throw new ParameterException(name, $"Parameter '{name}' of {action.Ref} is fixed by the action and cannot be set.");
            }
        }

        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var masked = new JsonObject();
        var secretValues = new List<string>();
        foreach (var definition in action.Parameters)
        {
            JsonNode? value;
            if (input.TryGetPropertyValue(definition.Name, out var given) && given is not null)
            {
                value = Convert(action, definition, given);
            }
            else if (definition.Default is not null)
            {
                value = definition.Default.DeepClone();
            }
            else if (definition.Required)
            {
                throw new ParameterException(definition.Name,
                    $"{action.Ref} needs parameter '{definition.Name}' ({Describe(definition)}){(definition.Description.Length > 0 ? ": " + definition.Description : ".")}");
            }
            else
            {
                continue;
            }

            if (definition.Enum is { Count: > 0 } allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
            {
                throw new ParameterException(definition.Name,
                    $"Parameter '{definition.Name}' of {action.Ref} must be one of {string.Join(", ", allowed.Select(a => a?.ToJsonString()))}; got {Show(definition, value)}.");
            }

            values[definition.Name] = value;
            masked[definition.Name] = definition.Secret ? JsonValue.Create(SecretMask.Mask) : value?.DeepClone();
            if (definition.Secret)
            {
                secretValues.AddRange(SecretMasker.ValuesOf(value));
            }
        }

        return new BoundParameters(values, masked) { SecretValues = secretValues };
    }

    private static JsonNode? Convert(ActionDefinition action, ParameterDefinition p, JsonNode given)
    {
        var kind = given.GetValueKind();
        if (kind == JsonValueKind.String)
        {
            var text = given.GetValue<string>();
            if (text.Length > MaxStringLength)
            {
                throw new ParameterException(p.Name, $"Parameter '{p.Name}' of {action.Ref} is {text.Length:N0} characters; the limit is {MaxStringLength:N0}.");
            }

            return p.Type switch
            {
                ParameterType.Array => ParseArray(action, p, text),
                ParameterType.Object => ParseObject(action, p, text),
                _ => ParseScalar(p.Type, text) ?? throw Mismatch(action, p, $"'{Clip(text)}'"),
            };
        }

        return FitJson(p.Type, given) ?? throw Mismatch(action, p, kind.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// Text (from chat or the CLI) read as a string, integer, number or boolean (<c>true/yes/y/on/1</c>,
    /// <c>false/no/n/off/0</c>), as parameters are read; null when it does not read as <paramref name="type"/>, and for
    /// lists and objects, whose text forms need the parameter's own rules.
    /// </summary>
    public static JsonNode? ParseScalar(ParameterType type, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return type switch
        {
            ParameterType.String => JsonValue.Create(text),
            ParameterType.Integer when long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            ParameterType.Number when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => JsonValue.Create(d),
            ParameterType.Boolean when ParseBoolean(text) is { } b => JsonValue.Create(b),
            _ => null,
        };
    }

    /// <summary>
    /// Typed JSON (from the API) as a value of <paramref name="type"/>: a copy when it has the type (a whole number
    /// such as <c>3.0</c> counts as an integer and becomes <c>3</c>), null when it does not.
    /// </summary>
    public static JsonNode? FitJson(ParameterType type, JsonNode given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var kind = given.GetValueKind();
        var ok = type switch
        {
            ParameterType.String => kind == JsonValueKind.String,
            ParameterType.Integer => kind == JsonValueKind.Number && given.AsValue().TryGetValue<long>(out _),
            ParameterType.Number => kind == JsonValueKind.Number,
            ParameterType.Boolean => kind is JsonValueKind.True or JsonValueKind.False,
            ParameterType.Array => kind == JsonValueKind.Array,
            ParameterType.Object => kind == JsonValueKind.Object,
            _ => false,
        };

        if (!ok && type == ParameterType.Integer && kind == JsonValueKind.Number
            && given.AsValue().TryGetValue<double>(out var asDouble) && Math.Abs(asDouble % 1) < double.Epsilon && Math.Abs(asDouble) < 9e15)
        {
            return JsonValue.Create((long)asDouble);
        }

        return ok ? given.DeepClone() : null;
    }

    private static bool? ParseBoolean(string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "y" or "on" or "1" => true,
        "false" or "no" or "n" or "off" or "0" => false,
        _ => null,
    };

    private static JsonNode ParseArray(ActionDefinition action, ParameterDefinition p, string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            return ParseJson(action, p, trimmed) as JsonArray ?? throw Mismatch(action, p, $"'{Clip(text)}'");
        }

        // StackStorm's rule for text: a comma-separated list.
        var array = new JsonArray();
        foreach (var item in trimmed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            array.Add(JsonValue.Create(item));
        }

        return array;
    }

    private static JsonNode ParseObject(ActionDefinition action, ParameterDefinition p, string text) =>
        ParseJson(action, p, text.Trim()) as JsonObject ?? throw Mismatch(action, p, $"'{Clip(text)}'");

    private static JsonNode? ParseJson(ActionDefinition action, ParameterDefinition p, string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw new ParameterException(p.Name, $"Parameter '{p.Name}' of {action.Ref} must be {Describe(p)}; '{Clip(text)}' is not valid JSON ({ex.Message}).");
        }
    }

    private static ParameterException Mismatch(ActionDefinition action, ParameterDefinition p, string got) =>
        new(p.Name, $"Parameter '{p.Name}' of {action.Ref} must be {Describe(p)}; got {(p.Secret ? "a value that is not" : got)}.");

    private static string Describe(ParameterDefinition p) => p.Type switch
    {
        ParameterType.String => "a string",
        ParameterType.Integer => "an integer",
        ParameterType.Number => "a number",
        ParameterType.Boolean => "true or false",
        ParameterType.Array => "a list (JSON [..] or comma-separated)",
        ParameterType.Object => "a JSON object {..}",
        _ => p.Type.ToString(),
    };

    private static string Show(ParameterDefinition p, JsonNode? value) => p.Secret ? "a value not in the list" : value?.ToJsonString() ?? "null";

    private static string Clip(string text) => text.Length > 60 ? text[..60] + "…" : text;
}
