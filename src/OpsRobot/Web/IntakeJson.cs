using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Web;

/// <summary>
/// Reads a JSON body that a stranger sent (webhooks, alert intake) so that every way of getting it wrong is a
/// clear 400, not a 500 later: System.Text.Json's nodes check UTF-8 and duplicate names only when a value is read,
/// long after parsing "succeeded", so both are checked here, up front.
/// </summary>
internal static class IntakeJson
{
    /// <summary>The deepest nesting accepted.</summary>
    public const int MaxDepth = 64;

    /// <summary>The parsed body, or why it is not acceptable JSON (a sentence for the sender).</summary>
    public static (JsonNode? Node, string? Error) Parse(ReadOnlySpan<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return (null, "The body is not valid UTF-8.");
        }

        try
        {
            return (JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false }), null);
        }
        catch (JsonException ex)
        {
            return (null, ex.Message);
        }
    }
}
