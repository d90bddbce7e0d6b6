using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Events;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>
/// Alert intake: <c>POST /api/v1/alerts/alertmanager</c> takes Prometheus Alertmanager's webhook (version 4) and
/// <c>POST /api/v1/alerts/nagios</c> a Nagios notification; each alert becomes one <c>core.alert</c> event in one
/// shape whatever its source. Senders authenticate with <c>Authorization: Bearer TOKEN</c>, the token being the
/// system datastore secret <c>alerts.alertmanager.token</c> or <c>alerts.nagios.token</c> (Alertmanager's
/// <c>http_config.authorization</c> sends exactly that), or are callers the API already knows.
/// </summary>
internal static partial class AlertIntakeEndpoints
{
    /// <summary>The most alerts one delivery may carry.</summary>
    public const int MaxAlerts = 1000;

    public static IEndpointRouteBuilder MapAlertIntake(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/alerts/alertmanager", AlertmanagerAsync).WithTags("Events")
            .WithSummary("Prometheus Alertmanager's webhook: one core.alert event per alert.");
        app.MapPost("/api/v1/alerts/nagios", NagiosAsync).WithTags("Events")
            .WithSummary("A Nagios notification (JSON or form fields from the notification command): one core.alert event.");
        return app;
    }

    private static async Task<IResult> AlertmanagerAsync(HttpContext http, DatastoreService datastore, EventPublisher events, IUserStore users, Microsoft.Extensions.Options.IOptions<WebhookOptions> options, CancellationToken ct)
    {
        if (await RefuseAsync(http, "alertmanager", datastore, users, ct) is { } refused)
        {
            return refused;
        }

        if (await ReadJsonAsync(http, options.Value.MaxBodyBytes, ct) is not (JsonObject body, null))
        {
            return Results.BadRequest(new ErrorDto("Expected Alertmanager's webhook JSON: {\"version\": \"4\", \"alerts\": [...], ...}."));
        }

        if (body["alerts"] is not JsonArray alerts || alerts.Count > MaxAlerts)
        {
            return Results.BadRequest(new ErrorDto($"The delivery needs 'alerts', a list of at most {MaxAlerts}."));
        }

        var ids = new List<long>();
        foreach (var item in alerts)
        {
            if (item is not JsonObject alert)
            {
                return Results.BadRequest(new ErrorDto("Each alert must be an object with status, labels and annotations."));
            }

            var labels = alert["labels"] as JsonObject ?? [];
            var annotations = alert["annotations"] as JsonObject ?? [];
            var payload = new JsonObject
            {
                ["source"] = "alertmanager",
                ["status"] = Text(alert["status"]) == "resolved" ? "resolved" : "firing",
                ["name"] = Text(labels["alertname"]) ?? "unnamed",
                ["severity"] = Text(labels["severity"]),
                ["host"] = Text(labels["instance"]),
                ["summary"] = Text(annotations["summary"]) ?? Text(annotations["description"]),
                ["labels"] = labels.DeepClone(),
                ["annotations"] = annotations.DeepClone(),
                ["fingerprint"] = Text(alert["fingerprint"]) ?? Fingerprint(labels.ToJsonString()),
                ["starts_at"] = Text(alert["startsAt"]),
                ["ends_at"] = Text(alert["status"]) == "resolved" ? Text(alert["endsAt"]) : null,
                ["url"] = Text(alert["generatorURL"]),
                ["group_key"] = Text(body["groupKey"]),
                ["receiver"] = Text(body["receiver"]),
                ["external_url"] = Text(body["externalURL"]),
            };
            var stored = await events.PublishAsync(BuiltInTriggers.Alert, payload, "alerts:alertmanager", ct);
            ids.Add(stored.Id);
        }

        return Results.Json(new { eventIds = ids }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// A Nagios notification: the fields a notification command sends (see docs/alerts.md), as JSON or a form:
    /// <c>type</c> (PROBLEM, RECOVERY, ACKNOWLEDGEMENT, …), <c>host</c>, <c>service</c> (empty for a host alert),
    /// <c>state</c>, <c>output</c>, and optionally <c>url</c>.
    /// </summary>
    private static async Task<IResult> NagiosAsync(HttpContext http, DatastoreService datastore, EventPublisher events, IUserStore users, Microsoft.Extensions.Options.IOptions<WebhookOptions> options, CancellationToken ct)
    {
        if (await RefuseAsync(http, "nagios", datastore, users, ct) is { } refused)
        {
            return refused;
        }

        JsonObject fields;
        if (http.Request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await http.Request.ReadFormAsync(ct);
            }
            catch (InvalidDataException ex)
            {
                // Too many fields, a field too long, a malformed multipart body: the sender's mistake, said plainly.
                return Results.BadRequest(new ErrorDto($"The form could not be read: {ex.Message}"));
            }

            fields = [];
            foreach (var (key, value) in form)
            {
                fields[key] = value.ToString();
            }
        }
        else if (await ReadJsonAsync(http, options.Value.MaxBodyBytes, ct) is (JsonObject json, null))
        {
            fields = json;
        }
        else
        {
            return Results.BadRequest(new ErrorDto("Send the notification as JSON or form fields: type, host, service, state, output."));
        }

        var type = (Text(fields["type"]) ?? string.Empty).ToUpperInvariant();
        var host = Text(fields["host"]);
        var service = Text(fields["service"]) is { Length: > 0 } s ? s : null;
        var state = (Text(fields["state"]) ?? string.Empty).ToUpperInvariant();
        if (host is null || type.Length == 0 || state.Length == 0)
        {
            return Results.BadRequest(new ErrorDto("A Nagios notification needs type, host and state (and service for a service alert)."));
        }

        var resolved = type == "RECOVERY" || state is "OK" or "UP";
        var payload = new JsonObject
        {
            ["source"] = "nagios",
            ["status"] = resolved ? "resolved" : "firing",
            ["name"] = service ?? host,
            ["severity"] = state,
            ["host"] = host,
            ["summary"] = Text(fields["output"]),
            ["labels"] = new JsonObject { ["host"] = host, ["service"] = service, ["state"] = state, ["notification_type"] = type },
            ["annotations"] = new JsonObject { ["output"] = Text(fields["output"]) },
            ["fingerprint"] = Fingerprint($"nagios\n{host}\n{service}"),
            ["url"] = Text(fields["url"]),
        };
        var stored = await events.PublishAsync(BuiltInTriggers.Alert, payload, "alerts:nagios", ct);
        return Results.Json(new { eventIds = new[] { stored.Id } }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>Null when the caller may deliver; otherwise the 401 to answer.</summary>
    private static async Task<IResult?> RefuseAsync(HttpContext http, string source, DatastoreService datastore, IUserStore users, CancellationToken ct)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && !header[7..].TrimStart().StartsWith(Core.Access.AccessService.KeyPrefix, StringComparison.Ordinal))
        {
            string? token;
            try
            {
                token = await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, $"alerts.{source}.token", ct);
            }
            catch (DatastoreException)
            {
                token = null;
            }

            if (token is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), Encoding.UTF8.GetBytes(token)))
            {
                return null;
            }

            return Results.Json(new ErrorDto($"The bearer token does not match the system datastore secret alerts.{source}.token."), statusCode: StatusCodes.Status401Unauthorized);
        }

        // An OpsRobot API key, token or session instead: it needs webhook.send on alerts.SOURCE.
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        return (await http.RequestServices.GetRequiredService<Core.Access.AccessService>().CheckAsync(caller.Principal, Core.Access.Permissions.WebhookSend, $"alerts.{source}", ct)).Allowed
            ? null
            : ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WebhookSend}` on `alerts.{source}` to deliver alerts.");
    }

    private static async Task<(JsonNode? Body, string? Error)> ReadJsonAsync(HttpContext http, int limit, CancellationToken ct)
    {
        if (http.Request.ContentLength > limit)
        {
            return (null, "too large");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return (null, "too large");
            }

            buffer.Write(chunk, 0, read);
        }

        return IntakeJson.Parse(buffer.ToArray());
    }

    private static string Fingerprint(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
