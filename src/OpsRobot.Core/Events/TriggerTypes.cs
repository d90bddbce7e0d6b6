using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Events;

/// <summary>The JSON kinds a payload or parameter field may have.</summary>
public enum FieldKind
{
    Any,
    Text,
    WholeNumber,
    Number,
    Boolean,
    Mapping,
    List,
}

/// <summary>One field of a trigger's payload or parameters.</summary>
public sealed record TriggerField(string Name, FieldKind Kind, bool Required, string Description);

/// <summary>
/// A kind of event, with the shape of its payload (what rules may read as <c>trigger.…</c>) and of the parameters a
/// rule gives it (a webhook's name, a timer's schedule).
/// </summary>
public sealed record TriggerType(string Ref, string Description, IReadOnlyList<TriggerField> Payload, IReadOnlyList<TriggerField> Parameters)
{
    /// <summary>StackStorm's names for the same trigger, accepted in rules so theirs load unchanged.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The problems of <paramref name="obj"/> against <paramref name="fields"/>: missing required fields, wrong kinds.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<TriggerField> fields, JsonObject obj, string what)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(obj);
        var problems = new List<string>();
        foreach (var field in fields)
        {
            var present = obj.TryGetPropertyValue(field.Name, out var value);
            if (value is null)
            {
                // A field of any kind may be null (an empty webhook body); others must have a value when required.
                if (field.Required && (!present || field.Kind != FieldKind.Any))
                {
                    problems.Add($"{what} '{field.Name}' is required ({field.Description})");
                }

                continue;
            }

            if (!Fits(field.Kind, value))
            {
                problems.Add($"{what} '{field.Name}' must be {KindName(field.Kind)}, not {value.GetValueKind().ToString().ToLowerInvariant()}");
            }
        }

        return problems;
    }

    private static bool Fits(FieldKind kind, JsonNode value) => (kind, value.GetValueKind()) switch
    {
        (FieldKind.Any, _) => true,
        (FieldKind.Text, JsonValueKind.String) => true,
        (FieldKind.WholeNumber, JsonValueKind.Number) => value.AsValue().TryGetValue<long>(out _),
        (FieldKind.Number, JsonValueKind.Number) => true,
        (FieldKind.Boolean, JsonValueKind.True or JsonValueKind.False) => true,
        (FieldKind.Mapping, JsonValueKind.Object) => true,
        (FieldKind.List, JsonValueKind.Array) => true,
        _ => false,
    };

    private static string KindName(FieldKind kind) => kind switch
    {
        FieldKind.Text => "text",
        FieldKind.WholeNumber => "a whole number",
        FieldKind.Number => "a number",
        FieldKind.Boolean => "true or false",
        FieldKind.Mapping => "a mapping",
        FieldKind.List => "a list",
        _ => "any value",
    };
}

/// <summary>The trigger types OpsRobot's own sensors emit.</summary>
public static class BuiltInTriggers
{
    public const string Webhook = "core.webhook";
    public const string IntervalTimer = "core.interval_timer";
    public const string CronTimer = "core.cron_timer";
    public const string DateTimer = "core.date_timer";
    public const string ChatMessage = "core.chat_message";
    public const string ExecutionFinished = "core.execution_finished";
    public const string KeyValueChanged = "core.kv_changed";
    public const string Alert = "core.alert";

    private static readonly TriggerField[] TimerPayload =
    [
        new("executed_at", FieldKind.Text, true, "when the timer fired, ISO 8601 UTC"),
        new("schedule", FieldKind.Mapping, true, "the timer's parameters"),
    ];

    /// <summary>Every built-in trigger type.</summary>
    public static IReadOnlyList<TriggerType> All { get; } =
    [
        new(Webhook, "A POST to /api/v1/webhooks/{url}.",
            [
                new("url", FieldKind.Text, true, "the webhook's name, as in the address"),
                new("headers", FieldKind.Mapping, true, "the request's headers, names in lowercase"),
                new("body", FieldKind.Any, true, "the JSON body, or the form's fields as a mapping"),
            ],
            [
                new("url", FieldKind.Text, true, "the webhook's name: /api/v1/webhooks/NAME"),
                new("secret_key", FieldKind.Text, false, "a system datastore key holding the HMAC-SHA256 secret that signs the body"),
            ]) { Aliases = ["core.st2.webhook"] },
        new(IntervalTimer, "Fires every 'delta' 'unit's.", TimerPayload,
            [
                new("unit", FieldKind.Text, true, "weeks, days, hours, minutes or seconds"),
                new("delta", FieldKind.WholeNumber, true, "how many units between firings"),
            ]) { Aliases = ["core.st2.IntervalTimer"] },
        new(CronTimer, "Fires on a cron schedule, in a time zone.", TimerPayload,
            [
                new("expression", FieldKind.Text, false, "a crontab line: 5 fields, or 6 with seconds first"),
                new("timezone", FieldKind.Text, false, "an IANA time zone such as Europe/Paris (default UTC)"),
                new("second", FieldKind.Any, false, "StackStorm's field form: second"),
                new("minute", FieldKind.Any, false, "StackStorm's field form: minute"),
                new("hour", FieldKind.Any, false, "StackStorm's field form: hour"),
                new("day", FieldKind.Any, false, "StackStorm's field form: day of the month"),
                new("month", FieldKind.Any, false, "StackStorm's field form: month"),
                new("day_of_week", FieldKind.Any, false, "StackStorm's field form: day of the week, 0 or mon = Monday"),
            ]) { Aliases = ["core.st2.CronTimer"] },
        new(DateTimer, "Fires once, at a date and time.", TimerPayload,
            [
                new("date", FieldKind.Text, true, "when to fire, ISO 8601 (without an offset, in 'timezone')"),
                new("timezone", FieldKind.Text, false, "an IANA time zone (default UTC)"),
            ]) { Aliases = ["core.st2.DateTimer"] },
        new(ChatMessage, "A line posted in a chat room the robot is in.",
            [
                new("platform", FieldKind.Text, true, "the chat adapter: web, shell, irc, …"),
                new("room", FieldKind.Text, true, "the room's name"),
                new("room_id", FieldKind.Text, true, "the room's id on its platform"),
                new("user", FieldKind.Text, true, "who wrote it"),
                new("user_id", FieldKind.Text, true, "the writer's id on the platform"),
                new("text", FieldKind.Text, true, "the line"),
                new("received_at", FieldKind.Text, true, "when it arrived, ISO 8601 UTC"),
            ],
            []),
        new(ExecutionFinished, "An execution reached a final status.",
            [
                new("execution_id", FieldKind.WholeNumber, true, "the execution's id"),
                new("action_ref", FieldKind.Text, true, "pack.action"),
                new("status", FieldKind.Text, true, "succeeded, failed, timeout, canceled or abandoned"),
                new("user", FieldKind.Text, true, "who asked for it"),
                new("door", FieldKind.Text, true, "chat, api, cli, rule, workflow or retry"),
                new("parameters", FieldKind.Mapping, true, "its parameters, secrets masked"),
                new("result", FieldKind.Any, false, "its result (null, with result_truncated, when too large for an event)"),
                new("error", FieldKind.Text, false, "why it did not succeed"),
            ],
            []) { Aliases = ["core.st2.generic.actiontrigger"] },
        new(KeyValueChanged, "A datastore key was set or deleted.",
            [
                new("change", FieldKind.Text, true, "set or deleted"),
                new("scope", FieldKind.Text, true, "system or user"),
                new("user", FieldKind.Text, false, "the key's owner, for the user scope"),
                new("name", FieldKind.Text, true, "the key's name"),
                new("secret", FieldKind.Boolean, true, "whether the value is a secret (then 'value' is masked)"),
                new("value", FieldKind.Text, false, "the new value; masked for a secret, absent when deleted"),
                new("by", FieldKind.Text, true, "who made the change"),
            ],
            []) { Aliases = ["core.st2.key_value_pair.value_change"] },
        new(Alert, "An alert from monitoring (Alertmanager, Nagios), one event per alert and state change.",
            [
                new("source", FieldKind.Text, true, "alertmanager or nagios"),
                new("status", FieldKind.Text, true, "firing or resolved"),
                new("name", FieldKind.Text, true, "the alert's name (alertname; the Nagios service, or host)"),
                new("severity", FieldKind.Text, false, "the severity label, or the Nagios state"),
                new("host", FieldKind.Text, false, "the instance or Nagios host"),
                new("summary", FieldKind.Text, false, "one line for people"),
                new("labels", FieldKind.Mapping, true, "every label"),
                new("annotations", FieldKind.Mapping, true, "every annotation"),
                new("fingerprint", FieldKind.Text, true, "the same for every event of the same alert"),
                new("starts_at", FieldKind.Text, false, "when it started firing, ISO 8601"),
                new("ends_at", FieldKind.Text, false, "when it was resolved, ISO 8601"),
                new("url", FieldKind.Text, false, "where to look at it"),
            ],
            []),
    ];

    private static readonly FrozenDictionary<string, TriggerType> ByName = All
        .SelectMany(t => t.Aliases.Append(t.Ref).Select(name => (name, t)))
        .ToFrozenDictionary(x => x.name, x => x.t, StringComparer.Ordinal);

    /// <summary>The built-in trigger named <paramref name="name"/> (or one of StackStorm's names for it), or null.</summary>
    public static TriggerType? Find(string name) => ByName.GetValueOrDefault(name);
}
