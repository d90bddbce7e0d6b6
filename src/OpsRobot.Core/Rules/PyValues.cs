using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Rules;

/// <summary>
/// Python's meaning of <c>==</c>, <c>in</c>, <c>&lt;</c> and string methods over JSON values, which is what
/// StackStorm's operators apply to the payload: <c>1 == 1.0</c> and <c>true == 1</c> hold, <c>"1" == 1</c> does not,
/// <c>"a" in ["a"]</c> is membership, <c>"a" in "abc"</c> is a substring test, <c>"k" in {"k": 1}</c> tests keys,
/// and anything Python would refuse with a <c>TypeError</c> (<c>"a" in 5</c>, <c>"a" &lt; 5</c>) throws
/// <see cref="PyTypeException"/>, which the operator turns into "does not hold", as StackStorm does.
/// </summary>
internal static class PyValues
{
    public static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;

    public static bool IsNumeric(JsonNode? node) => Kind(node) is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;

    /// <summary>The number a numeric value stands for; booleans are 0 and 1 as in Python.</summary>
    public static decimal Number(JsonNode? node) => Kind(node) switch
    {
        JsonValueKind.True => 1m,
        JsonValueKind.False => 0m,
        _ => ToDecimal(node!.AsValue()),
    };

    private static decimal ToDecimal(JsonValue value)
    {
        if (value.TryGetValue<decimal>(out var d))
        {
            return d;
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        var f = value.GetValue<double>();
        return f switch
        {
            >= (double)decimal.MaxValue => decimal.MaxValue,
            <= (double)decimal.MinValue => decimal.MinValue,
            _ => (decimal)f,
        };
    }

    public static bool Equal(JsonNode? a, JsonNode? b)
    {
        var ka = Kind(a);
        var kb = Kind(b);
        if (IsNumeric(a) && IsNumeric(b))
        {
            return Number(a) == Number(b);
        }

        if (ka != kb)
        {
            return false;
        }

        switch (ka)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                return string.Equals(a!.GetValue<string>(), b!.GetValue<string>(), StringComparison.Ordinal);
            case JsonValueKind.Array:
                var la = a!.AsArray();
                var lb = b!.AsArray();
                if (la.Count != lb.Count)
                {
                    return false;
                }

                for (var i = 0; i < la.Count; i++)
                {
                    if (!Equal(la[i], lb[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                var oa = a!.AsObject();
                var ob = b!.AsObject();
                if (oa.Count != ob.Count)
                {
                    return false;
                }

                foreach (var (key, value) in oa)
                {
                    if (!ob.TryGetPropertyValue(key, out var other) || !Equal(value, other))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Python's <c>needle in container</c>.</summary>
    public static bool In(JsonNode? needle, JsonNode? container)
    {
        switch (Kind(container))
        {
            case JsonValueKind.String:
                if (Kind(needle) != JsonValueKind.String)
                {
                    throw new PyTypeException($"'in <string>' needs text on the left, not {Describe(needle)}");
                }

                return container!.GetValue<string>().Contains(needle!.GetValue<string>(), StringComparison.Ordinal);
            case JsonValueKind.Array:
                return container!.AsArray().Any(item => Equal(item, needle));
            case JsonValueKind.Object:
                return Kind(needle) switch
                {
                    JsonValueKind.String => container!.AsObject().ContainsKey(needle!.GetValue<string>()),
                    JsonValueKind.Array or JsonValueKind.Object => throw new PyTypeException($"{Describe(needle)} cannot be looked up among a mapping's keys"),
                    _ => false, // JSON keys are always text, so a number, boolean or null is never one.
                };
            default:
                throw new PyTypeException($"{Describe(container)} cannot contain anything; it is not text, a list or a mapping");
        }
    }

    /// <summary>Python's ordering: numbers with numbers, text with text (by code point), lists item by item.</summary>
    public static int Compare(JsonNode? a, JsonNode? b)
    {
        if (IsNumeric(a) && IsNumeric(b))
        {
            return Number(a).CompareTo(Number(b));
        }

        var ka = Kind(a);
        if (ka == JsonValueKind.String && Kind(b) == JsonValueKind.String)
        {
            return string.CompareOrdinal(a!.GetValue<string>(), b!.GetValue<string>());
        }

        if (ka == JsonValueKind.Array && Kind(b) == JsonValueKind.Array)
        {
            var la = a!.AsArray();
            var lb = b!.AsArray();
            for (var i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!Equal(la[i], lb[i]))
                {
                    return Compare(la[i], lb[i]);
                }
            }

            return la.Count.CompareTo(lb.Count);
        }

        throw new PyTypeException($"{Describe(a)} cannot be compared with {Describe(b)}");
    }

    /// <summary>The text of a string value; anything else is a type error naming <paramref name="role"/>.</summary>
    public static string Text(JsonNode? node, string role) => Kind(node) == JsonValueKind.String
        ? node!.GetValue<string>()
        : throw new PyTypeException($"the {role} must be text, but it is {Describe(node)}");

    /// <summary>Python's <c>str.lower()</c>, which for text is Unicode lower-casing without a culture.</summary>
    public static string Lower(string s) => s.ToLowerInvariant();

    /// <summary>A value as a person reads it in an explanation: its type and a short form of it.</summary>
    public static string Describe(JsonNode? node)
    {
        var kind = Kind(node);
        var name = kind switch
        {
            JsonValueKind.Null => "nothing (null)",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Number => "a number",
            JsonValueKind.String => "text",
            JsonValueKind.Array => "a list",
            _ => "a mapping",
        };
        return kind == JsonValueKind.Null ? name : $"{name} {Short(node)}";
    }

    /// <summary>The value in JSON, cut to 120 characters.</summary>
    public static string Short(JsonNode? node)
    {
        var json = node is null ? "null" : node.ToJsonString();
        return json.Length <= 120 ? json : string.Concat(json.AsSpan(0, 117), "...");
    }

    /// <summary>A number written as text ("10", "2.5"), as a rendered template gives it; null when it is not one.</summary>
    public static JsonNode? NumericText(JsonNode? node) =>
        Kind(node) == JsonValueKind.String
        && decimal.TryParse(node!.GetValue<string>().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? JsonValue.Create(d)
            : null;
}

/// <summary>What Python raises as <c>TypeError</c>/<c>AttributeError</c> when an operator meets values it cannot apply to.</summary>
internal sealed class PyTypeException : Exception
{
    public PyTypeException()
    {
    }

    public PyTypeException(string message)
        : base(message)
    {
    }

    public PyTypeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
