using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Inquiries;

/// <summary>The type of one field of an inquiry's response.</summary>
#pragma warning disable CA1720 // The names are JSON schema's, as pack authors write them.
public enum InquiryFieldType
{
    String,
    Integer,
    Number,
    Boolean,
}
#pragma warning restore CA1720

/// <summary>One field people fill in when they answer.</summary>
public sealed record InquiryField(string Name, InquiryFieldType Type)
{
    public string? Description { get; init; }

    public bool Required { get; init; }

    /// <summary>The only values allowed, when set.</summary>
    public IReadOnlyList<JsonNode> Enum { get; init; } = [];
}

/// <summary>A problem with a schema or a response, worded for the person who wrote it.</summary>
public sealed class InquirySchemaException : Exception
{
    public InquirySchemaException()
    {
    }

    public InquirySchemaException(string message)
        : base(message)
    {
    }

    public InquirySchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The subset of JSON schema an inquiry's response is checked against: an object whose properties are strings,
/// integers, numbers or booleans, with <c>required</c> (the list of JSON schema, or <c>required: true</c> on a
/// property as StackStorm's examples write it) and <c>enum</c>. Properties that are not declared are refused.
/// Without a schema an inquiry is a plain approve/deny: <c>approved</c> (boolean, required) and <c>comment</c>.
/// </summary>
public sealed partial class InquirySchema
{
    /// <summary>At most this many fields: a question, not a form.</summary>
    public const int MaxFields = 50;

    /// <summary>The longest text accepted for one field of a response.</summary>
    public const int MaxTextLength = 4096;

    private const int MaxEnumValues = 100;

    private InquirySchema(IReadOnlyList<InquiryField> fields, bool isApproval)
    {
        Fields = fields;
        IsApproval = isApproval;
    }

    /// <summary>The approve/deny schema used when an ask gives none.</summary>
    public static InquirySchema Approval { get; } = new(
        [
            new InquiryField("approved", InquiryFieldType.Boolean) { Required = true, Description = "Approve (true) or deny (false)." },
            new InquiryField("comment", InquiryFieldType.String) { Description = "Why, for the record." },
        ],
        isApproval: true);

    public IReadOnlyList<InquiryField> Fields { get; }

    /// <summary>True for the approve/deny schema.</summary>
    public bool IsApproval { get; }

    /// <summary>Reads a schema as a pack author writes it; null or an empty object gives <see cref="Approval"/>.</summary>
    /// <exception cref="InquirySchemaException">The schema is outside the supported subset; the message names the field.</exception>
    public static InquirySchema Parse(JsonNode? node)
    {
        if (node is null || (node is JsonObject empty && empty.Count == 0))
        {
            return Approval;
        }

        if (node is not JsonObject schema)
        {
            throw new InquirySchemaException("The schema must be an object (type: object, properties: …).");
        }

        if (schema["x-opsrobot-approval"] is JsonValue marker && marker.TryGetValue<bool>(out var approval) && approval)
        {
            return Approval;
        }

        if (schema["type"] is { } type && (type.GetValueKind() != JsonValueKind.String || type.GetValue<string>() != "object"))
        {
            throw new InquirySchemaException("The schema's type must be object: a response is a set of named fields.");
        }

        if (schema["properties"] is not JsonObject properties || properties.Count == 0)
        {
            throw new InquirySchemaException("The schema needs properties: the fields people fill in (each with a type: string, integer, number or boolean).");
        }

        if (properties.Count > MaxFields)
        {
            throw new InquirySchemaException($"The schema has {properties.Count} properties; at most {MaxFields} are allowed.");
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema["required"] is { } list)
        {
            if (list is not JsonArray names || names.Any(n => n?.GetValueKind() != JsonValueKind.String))
            {
                throw new InquirySchemaException("The schema's required must be a list of property names.");
            }

            foreach (var name in names)
            {
                var text = name!.GetValue<string>();
                if (!properties.ContainsKey(text))
                {
                    throw new InquirySchemaException($"The schema's required names '{text}', which is not one of its properties.");
                }

                required.Add(text);
            }
        }

        var fields = new List<InquiryField>();
        foreach (var (name, value) in properties)
        {
            if (!FieldName().IsMatch(name))
            {
                throw new InquirySchemaException($"The property name '{Shorten(name)}' is not allowed: use letters, digits and _ (at most 64), starting with a letter.");
            }

            fields.Add(ParseField(name, value, required.Contains(name)));
        }

        return new InquirySchema(fields, isApproval: false);
    }

    private static InquiryField ParseField(string name, JsonNode? value, bool required)
    {
        if (value is not JsonObject property)
        {
            throw new InquirySchemaException($"The property '{name}' must be an object with a type.");
        }

        var typeName = property["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        var type = typeName switch
        {
            "string" => InquiryFieldType.String,
            "integer" => InquiryFieldType.Integer,
            "number" => InquiryFieldType.Number,
            "boolean" => InquiryFieldType.Boolean,
            _ => throw new InquirySchemaException(
                $"The property '{name}' has type '{typeName ?? "(none)"}'; an inquiry's fields are string, integer, number or boolean."),
        };

        if (property["required"] is JsonValue r && r.TryGetValue<bool>(out var flag))
        {
            required |= flag;
        }

        var field = new InquiryField(name, type)
        {
            Required = required,
            Description = property["description"] is JsonValue d && d.TryGetValue<string>(out var description) ? description : null,
        };

        if (property["enum"] is { } enumNode)
        {
            if (enumNode is not JsonArray values || values.Count == 0 || values.Count > MaxEnumValues)
            {
                throw new InquirySchemaException($"The property '{name}' has an enum that is not a list of 1 to {MaxEnumValues} values.");
            }

            var allowed = new List<JsonNode>();
            foreach (var v in values)
            {
                if (v is null || Check(field with { Enum = [] }, v) is { } problem)
                {
                    throw new InquirySchemaException($"The property '{name}' lists {Show(v)} in its enum, which is not a {type.ToString().ToLowerInvariant()}.");
                }

                allowed.Add(v.DeepClone());
            }

            field = field with { Enum = allowed };
        }

        return field;
    }

    /// <summary>The schema as stored and as the API shows it (JSON schema).</summary>
    public JsonObject ToJson()
    {
        var properties = new JsonObject();
        foreach (var field in Fields)
        {
            var property = new JsonObject { ["type"] = field.Type.ToString().ToLowerInvariant() };
            if (field.Description is not null)
            {
                property["description"] = field.Description;
            }

            if (field.Enum.Count > 0)
            {
                property["enum"] = new JsonArray([.. field.Enum.Select(e => e.DeepClone())]);
            }

            properties[field.Name] = property;
        }

        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray([.. Fields.Where(f => f.Required).Select(f => (JsonNode)f.Name)]),
        };
        if (IsApproval)
        {
            schema["x-opsrobot-approval"] = true;
        }

        return schema;
    }

    /// <summary>
    /// Checks a response given as JSON (the API): every field declared, of its type and in its enum, every required
    /// field present. Returns a copy holding only what was given.
    /// </summary>
    /// <exception cref="InquirySchemaException">The response does not match; the message names the field.</exception>
    public JsonObject Validate(JsonObject response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var checkedResponse = new JsonObject();
        foreach (var (name, value) in response)
        {
            var field = Find(name);
            if (value is null)
            {
                throw new InquirySchemaException($"The field '{name}' is null; give a {Describe(field)} or leave it out.");
            }

            if (Check(field, value) is { } problem)
            {
                throw new InquirySchemaException(problem);
            }

            checkedResponse[field.Name] = value.DeepClone();
        }

        return RequireAll(checkedResponse);
    }

    /// <summary>
    /// Reads <c>key=value …</c> as typed in chat or the CLI (values may be "quoted" or 'quoted'), typing each value by
    /// its field, and checks the result as <see cref="Validate"/> does.
    /// </summary>
    /// <exception cref="InquirySchemaException">A pair does not read or a value does not fit; the message names the field.</exception>
    public JsonObject ParsePairs(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FromPairs(SplitPairs(text));
    }

    /// <summary>
    /// Types and checks pairs already split (the CLI's arguments, <c>name=value</c> each), as <see cref="ParsePairs"/> does.
    /// </summary>
    /// <exception cref="InquirySchemaException">A value does not fit; the message names the field.</exception>
    public JsonObject FromPairs(IEnumerable<(string Name, string Value)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var response = new JsonObject();
        foreach (var (name, raw) in pairs)
        {
            var field = Find(name);
            if (response.ContainsKey(field.Name))
            {
                throw new InquirySchemaException($"The field '{field.Name}' is given twice.");
            }

            response[field.Name] = Convert(field, raw);
        }

        return RequireAll(response);
    }

    /// <summary>Splits <c>key=value key2="two words"</c> into pairs.</summary>
    internal static List<(string Name, string Value)> SplitPairs(string text)
    {
        var pairs = new List<(string, string)>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                return pairs;
            }

            var start = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var name = text[start..i];
            if (i >= text.Length || text[i] != '=' || name.Length == 0)
            {
                throw new InquirySchemaException($"'{Shorten(text[start..Math.Min(text.Length, i + 1)].Trim())}' is not a field=value pair; write each answer as name=value (quote values with spaces: name=\"two words\").");
            }

            i++;
            var value = new StringBuilder();
            if (i < text.Length && text[i] is '"' or '\'')
            {
                var quote = text[i++];
                var closed = false;
                while (i < text.Length)
                {
                    if (text[i] == '\\' && i + 1 < text.Length && (text[i + 1] == quote || text[i + 1] == '\\'))
                    {
                        value.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }

                    if (text[i] == quote)
                    {
                        closed = true;
                        i++;
                        break;
                    }

                    value.Append(text[i++]);
                }

                if (!closed)
                {
                    throw new InquirySchemaException($"The value of '{Shorten(name)}' opens a quote ({quote}) that is never closed.");
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    value.Append(text[i++]);
                }
            }

            pairs.Add((name, value.ToString()));
        }
    }

    /// <summary>A short human description of the fields, for the question posted to chat.</summary>
    public string DescribeFields() => string.Join("; ", Fields.Select(f =>
        $"`{f.Name}` ({Describe(f)}{(f.Required ? ", required" : string.Empty)})" + (f.Description is { Length: > 0 } d ? $": {d}" : string.Empty)));

    private InquiryField Find(string name) =>
        Fields.FirstOrDefault(f => f.Name == name)
        ?? throw new InquirySchemaException(
            $"There is no field '{Shorten(name)}' in this inquiry; its fields are {string.Join(", ", Fields.Select(f => f.Name))}.");

    private JsonObject RequireAll(JsonObject response)
    {
        var missing = Fields.Where(f => f.Required && !response.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InquirySchemaException(missing.Count == 1
                ? $"The field '{missing[0]}' is required."
                : $"The fields {string.Join(", ", missing.Select(m => $"'{m}'"))} are required.");
        }

        return response;
    }

    // Text and JSON are typed as action parameters are (ParameterBinder), so an answer reads as a parameter would.
    private static JsonNode Convert(InquiryField field, string raw)
    {
        var value = ParameterBinder.ParseScalar(ParameterTypeOf(field), raw);
        if (value is null)
        {
            throw new InquirySchemaException($"The field '{field.Name}' must be {Article(field)}{Describe(field)}; '{Shorten(raw)}' is not one.");
        }

        return Check(field, value) is { } problem ? throw new InquirySchemaException(problem) : value;
    }

    /// <summary>Null when <paramref name="value"/> fits the field; otherwise the problem as a sentence.</summary>
    private static string? Check(InquiryField field, JsonNode value)
    {
        if (ParameterBinder.FitJson(ParameterTypeOf(field), value) is null)
        {
            return $"The field '{field.Name}' must be {Article(field)}{Describe(field)}; {Show(value)} is not one.";
        }

        if (field.Type == InquiryFieldType.String && value.GetValue<string>().Length > MaxTextLength)
        {
            return $"The field '{field.Name}' is longer than {MaxTextLength} characters.";
        }

        if (field.Enum.Count > 0 && !field.Enum.Any(e => JsonNode.DeepEquals(e, value) || SameNumber(e, value)))
        {
            return $"The field '{field.Name}' must be one of {string.Join(", ", field.Enum.Select(Show))}; {Show(value)} is not.";
        }

        return null;
    }

    private static ParameterType ParameterTypeOf(InquiryField field) => field.Type switch
    {
        InquiryFieldType.String => ParameterType.String,
        InquiryFieldType.Integer => ParameterType.Integer,
        InquiryFieldType.Number => ParameterType.Number,
        InquiryFieldType.Boolean => ParameterType.Boolean,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field.Type, "An inquiry field is a string, integer, number or boolean."),
    };

    private static bool SameNumber(JsonNode a, JsonNode b) =>
        a.GetValueKind() == JsonValueKind.Number && b.GetValueKind() == JsonValueKind.Number
        && a.AsValue().TryGetValue<double>(out var x) && b.AsValue().TryGetValue<double>(out var y) && x.Equals(y);

    private static string Describe(InquiryField field) => field.Enum.Count > 0
        ? $"{field.Type.ToString().ToLowerInvariant()}: one of {string.Join(", ", field.Enum.Select(Show))}"
        : field.Type.ToString().ToLowerInvariant();

    private static string Article(InquiryField field) => field.Type == InquiryFieldType.Integer ? "an " : "a ";

    private static string Show(JsonNode? value) => value is null ? "null" : Shorten(value.ToJsonString());

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex FieldName();
}
