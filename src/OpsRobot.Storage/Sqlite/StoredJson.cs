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
        try
        {
            if (JsonNode.Parse(text) is JsonObject value)
            {
                problem = null;
                return value;
            }

            problem = "not a JSON object";
            return null;
        }
        catch (JsonException ex)
        {
            problem = ex.Message;
            return null;
        }
    }
}
