using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Reads JSON the store wrote. A text that does not parse (a database edited by hand, or damaged) must not make the
/// rows around it unreadable, nor stop a background loop that reads them: the caller gets null and the problem in words.
/// </summary>
internal static class StoredJson
{
    /// <summary>The stored JSON object, or null and why it is not one.</summary>
    public static JsonObject? Object(string text, out string? problem)
    {
        var node = Node(text, out problem);
        if (node is JsonObject value)
        {
            return value;
        }

        problem ??= "not a JSON object";
        return null;
    }

    /// <summary>The stored JSON value (null for JSON's <c>null</c>), or null and why it does not parse.</summary>
    public static JsonNode? Node(string text, out string? problem)
    {
        try
        {
            problem = null;
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            problem = ex.Message;
            return null;
        }
    }
}
