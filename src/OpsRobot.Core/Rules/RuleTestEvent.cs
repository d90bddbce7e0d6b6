using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Events;

namespace OpsRobot.Core.Rules;

/// <summary>
/// An event as StackStorm's rule tester takes it from a file: <c>{"trigger": "core.st2.webhook", "payload": {…}}</c>
/// (the trigger may also be a mapping with <c>type</c> or <c>ref</c>, as a trigger instance exported from StackStorm has).
/// </summary>
public sealed record RuleTestEvent(string Trigger, JsonObject Payload)
{
    /// <summary>The largest event file read.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Reads the event from JSON text; the exception's message tells the operator what is wrong.</summary>
    /// <exception cref="FormatException">Not JSON, or not of that shape.</exception>
    public static RuleTestEvent Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the event is not valid JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject obj)
        {
            throw new FormatException("the event must be a JSON object with 'trigger' and 'payload'");
        }

        var trigger = obj["trigger"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject t when t["type"] is JsonValue tv && tv.TryGetValue<string>(out var s) => s,
            JsonObject t when t["ref"] is JsonValue rv && rv.TryGetValue<string>(out var s) => s,
            _ => throw new FormatException("the event needs 'trigger': the trigger type, e.g. \"core.st2.webhook\""),
        };

        var payload = obj["payload"] switch
        {
            JsonObject p => (JsonObject)p.DeepClone(),
            null => [],
            _ => throw new FormatException("the event's 'payload' must be a JSON object"),
        };

        return new RuleTestEvent(trigger, payload);
    }

    /// <summary>The trigger's canonical name (StackStorm's names for built-in triggers map to OpsRobot's).</summary>
    public string CanonicalTrigger => BuiltInTriggers.Find(Trigger)?.Ref ?? Trigger;
}
