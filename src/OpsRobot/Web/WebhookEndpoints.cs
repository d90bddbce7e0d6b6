using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>Webhooks' limits.</summary>
public sealed class WebhookOptions
{
    /// <summary>The largest body accepted, in bytes; larger ones are refused with 413 before they are read whole.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>
/// <c>POST /api/v1/webhooks/{name}</c>: an event for the rules whose trigger is <c>core.webhook</c> with
/// <c>url: name</c>. A webhook whose rules name a <c>secret_key</c> (a system datastore key) takes only bodies
/// signed with it: HMAC-SHA256 of the raw body, hex, in <c>X-OpsRobot-Signature: sha256=…</c> (GitHub's
/// <c>X-Hub-Signature-256</c> is read too), as JSON or as a form. A webhook with no secret takes JSON from callers
/// the API already knows (signed in, on this machine, and API keys when access control brings them). The event is
/// stored before the answer (202) is sent.
/// </summary>
internal static partial class WebhookEndpoints
{
    public const string SignatureHeader = "X-OpsRobot-Signature";
    public const string GitHubSignatureHeader = "X-Hub-Signature-256";

    /// <summary>Headers never stored in an event: they are credentials.</summary>
    private static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "cookie", "proxy-authorization", "x-api-key", "st2-api-key", SignatureHeader, GitHubSignatureHeader, "x-hub-signature",
    };

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial System.Text.RegularExpressions.Regex NamePattern();

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/webhooks/{name}", ReceiveAsync).WithTags("Events")
            .WithSummary("Deliver a webhook: JSON or a form, signed with the webhook's secret when it has one; answers 202 once the event is stored.");
        return app;
    }

    /// <summary>
    /// Whether the API's JSON-only rule applies: not to webhooks (they check their own bodies, and take forms only
    /// when signed), nor to a DELETE without a body (a browser cannot send one across sites without asking first).
    /// </summary>
    public static bool JsonOnlyApplies(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api/v1/webhooks", StringComparison.OrdinalIgnoreCase)
            || (request.Path.StartsWithSegments("/api/v1/alerts/nagios", StringComparison.OrdinalIgnoreCase) && request.Headers.Authorization.Count > 0))
        {
            return false;
        }

        return !(HttpMethods.IsDelete(request.Method) && (request.ContentLength ?? 0) == 0 && !request.Headers.ContainsKey("Transfer-Encoding"));
    }

    private static async Task<IResult> ReceiveAsync(
        string name, HttpContext http, PackCatalog packs, DatastoreService datastore, EventPublisher events, IUserStore users,
        Microsoft.Extensions.Options.IOptions<WebhookOptions> options, ILogger<WebhookOptionsLog> logger, CancellationToken ct)
    {
        if (!NamePattern().IsMatch(name))
        {
            return Results.NotFound(new ErrorDto("A webhook's name is 1 to 64 letters, digits, '-' or '_'."));
        }

        var rules = packs.Current.Rules
            .Where(r => r.Enabled && r.TriggerType == BuiltInTriggers.Webhook && r.TriggerParameters["url"]?.GetValue<string>() == name)
            .ToList();
        if (rules.Count == 0)
        {
            return Results.NotFound(new ErrorDto($"No enabled rule listens on webhook '{name}'."));
        }

        var limit = options.Value.MaxBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        var body = await ReadLimitedAsync(http.Request.Body, limit, ct);
        if (body is null)
        {
            return TooLarge(limit);
        }

        var secretKeys = rules.Select(r => r.TriggerParameters["secret_key"]?.GetValue<string>()).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var signed = false;
        if (secretKeys.Count > 0)
        {
            var signature = http.Request.Headers[SignatureHeader].ToString() is { Length: > 0 } s ? s : http.Request.Headers[GitHubSignatureHeader].ToString();
            foreach (var key in secretKeys)
            {
                string? secret;
                try
                {
                    secret = await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, key, ct);
                }
                catch (DatastoreException ex)
                {
                    LogSecretUnreadable(logger, name, key, ex.Message);
                    continue;
                }

                if (secret is null)
                {
                    LogSecretMissing(logger, name, key);
                    continue;
                }

                if (SignatureMatches(signature, Encoding.UTF8.GetBytes(secret), body))
                {
                    signed = true;
                    break;
                }
            }

            if (!signed)
            {
                LogRefused(logger, name, http.Connection.RemoteIpAddress?.ToString() ?? "?");
                return Results.Json(new ErrorDto($"The webhook '{name}' takes only bodies signed with its secret: send {SignatureHeader}: sha256=HEX, the HMAC-SHA256 of the body."),
                    statusCode: StatusCodes.Status401Unauthorized);
            }
        }
        else if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }
        else if (!(await http.RequestServices.GetRequiredService<Core.Access.AccessService>().CheckAsync(caller.Principal, Core.Access.Permissions.WebhookSend, name, ct)).Allowed)
        {
            return ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WebhookSend}` on `{name}` to deliver to this webhook.");
        }

        JsonNode? parsed;
        var contentType = http.Request.ContentType ?? string.Empty;
        if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            string? error = null;
            (parsed, error) = body.Length == 0 ? (null, null) : IntakeJson.Parse(body);
            if (error is not null)
            {
                return Results.BadRequest(new ErrorDto($"The body is not valid JSON: {error}"));
            }
        }
        else if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            if (!signed)
            {
                // A browser can post a form to this machine from any site without asking; only a signature proves the sender.
                return Results.Json(new ErrorDto("Form bodies are accepted only on webhooks with a secret (signed); send JSON."), statusCode: StatusCodes.Status415UnsupportedMediaType);
            }

            parsed = ParseForm(body);
        }
        else
        {
            return Results.Json(new ErrorDto("Send the webhook as application/json or application/x-www-form-urlencoded."), statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var headers = new JsonObject();
        foreach (var (key, value) in http.Request.Headers)
        {
            if (!SecretHeaders.Contains(key))
            {
                headers[key.ToLowerInvariant()] = value.ToString();
            }
        }

        try
        {
            var stored = await events.PublishAsync(BuiltInTriggers.Webhook, new JsonObject { ["url"] = name, ["headers"] = headers, ["body"] = parsed }, "webhook:" + name, ct);
            return Results.Json(new { eventId = stored.Id }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (EventRejectedException ex)
        {
            return Results.BadRequest(new ErrorDto(ex.Message));
        }
    }

    /// <summary>Checks <c>sha256=HEX</c> against the HMAC of the body, in constant time.</summary>
    internal static bool SignatureMatches(string header, byte[] secret, byte[] body)
    {
        if (!header.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(7).Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(secret, body);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>The HMAC-SHA256 signature header value for a body, as senders compute it.</summary>
    internal static string Sign(byte[] secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private static JsonObject ParseForm(byte[] body)
    {
        var form = new JsonObject();
        foreach (var (key, values) in QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)))
        {
            form[key] = values.Count == 1 ? JsonValue.Create(values[0]) : new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }

        return form;
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream stream, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static IResult TooLarge(int limit) =>
        Results.Json(new ErrorDto($"The body is larger than the webhook limit of {limit:N0} bytes (OpsRobot:Webhooks:MaxBodyBytes)."), statusCode: StatusCodes.Status413PayloadTooLarge);

    [LoggerMessage(EventId = 6500, Level = LogLevel.Error, Message = "Webhook {Webhook} names secret_key {Key}, which is not set in the system datastore; its deliveries are refused")]
    private static partial void LogSecretMissing(ILogger logger, string webhook, string key);

    [LoggerMessage(EventId = 6502, Level = LogLevel.Error, Message = "Webhook {Webhook}: the secret in {Key} cannot be read ({Reason}); its deliveries are refused")]
    private static partial void LogSecretUnreadable(ILogger logger, string webhook, string key, string reason);

    [LoggerMessage(EventId = 6501, Level = LogLevel.Warning, Message = "Webhook {Webhook} refused a delivery from {Address}: missing or wrong signature")]
    private static partial void LogRefused(ILogger logger, string webhook, string address);
}

/// <summary>The logger category of the webhook endpoint.</summary>
internal sealed class WebhookOptionsLog;
