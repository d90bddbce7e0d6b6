using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Datastore;

namespace OpsRobot.Integrations.Alertmanager;

/// <summary><c>OpsRobot:Alertmanager</c>: where Alertmanager's API is. The datastore can override both (see docs/alerts.md).</summary>
public sealed class AlertmanagerOptions
{
    /// <summary>Alertmanager's base address, e.g. <c>http://alertmanager:9093</c>; system key <c>alertmanager.url</c> overrides it.</summary>
    public Uri? Url { get; set; }

    /// <summary>How long one API call may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>One matcher of a silence: <c>name="value"</c>, or a regular expression, or a negation.</summary>
public sealed record SilenceMatcher(string Name, string Value, bool IsRegex = false, bool IsEqual = true);

/// <summary>A silence as Alertmanager lists it.</summary>
public sealed record AlertmanagerSilence(string Id, string State, string CreatedBy, string Comment, DateTimeOffset StartsAt, DateTimeOffset EndsAt, IReadOnlyList<SilenceMatcher> Matchers);

/// <summary>An alert as Alertmanager lists it.</summary>
public sealed record AlertmanagerAlert(string Fingerprint, string State, DateTimeOffset StartsAt, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> SilencedBy);

/// <summary>Alertmanager refused a call or could not be reached; the message is a sentence for the room.</summary>
public sealed class AlertmanagerException : Exception
{
    public AlertmanagerException()
    {
    }

    public AlertmanagerException(string message)
        : base(message)
    {
    }

    public AlertmanagerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A thin client of Alertmanager's API v2: silences (create, list, expire) and alerts. The address and the
/// credentials are read for every call (configuration, then the datastore), so changing them needs no restart.
/// </summary>
public sealed class AlertmanagerClient(IHttpClientFactory httpClients, IOptions<AlertmanagerOptions> options, DatastoreService? datastore = null)
{
    /// <summary>The largest answer read from Alertmanager.</summary>
    public const int MaxResponseBytes = 8 * 1024 * 1024;

    /// <summary>The name of the <see cref="HttpClient"/> it uses, for a host that wants to configure it (a proxy, certificates).</summary>
    public const string HttpClientName = "alertmanager";

    /// <summary>Creates a silence; returns its id.</summary>
    public async Task<string> CreateSilenceAsync(IReadOnlyList<SilenceMatcher> matchers, DateTimeOffset startsAt, DateTimeOffset endsAt, string createdBy, string comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(matchers);
        if (matchers.Count == 0)
        {
            throw new AlertmanagerException("A silence needs at least one matcher.");
        }

        var body = new JsonObject
        {
            ["matchers"] = new JsonArray([.. matchers.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["value"] = m.Value, ["isRegex"] = m.IsRegex, ["isEqual"] = m.IsEqual })]),
            ["startsAt"] = startsAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["endsAt"] = endsAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["createdBy"] = createdBy,
            ["comment"] = comment,
        };
        var answer = await SendAsync(HttpMethod.Post, "api/v2/silences", body, cancellationToken).ConfigureAwait(false);
        return (answer as JsonObject)?["silenceID"]?.GetValue<string>()
            ?? throw new AlertmanagerException("Alertmanager accepted the silence but gave no silenceID.");
    }

    /// <summary>Every silence Alertmanager knows (active, pending and expired).</summary>
    public async Task<IReadOnlyList<AlertmanagerSilence>> ListSilencesAsync(CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, "api/v2/silences", null, cancellationToken).ConfigureAwait(false);
        return [.. (answer as JsonArray ?? []).OfType<JsonObject>().Select(s => new AlertmanagerSilence(
            Text(s["id"]) ?? string.Empty,
            Text(s["status"]?["state"]) ?? "unknown",
            Text(s["createdBy"]) ?? string.Empty,
            Text(s["comment"]) ?? string.Empty,
            Time(s["startsAt"]),
            Time(s["endsAt"]),
            [.. (s["matchers"] as JsonArray ?? []).OfType<JsonObject>().Select(m => new SilenceMatcher(
                Text(m["name"]) ?? string.Empty, Text(m["value"]) ?? string.Empty, m["isRegex"]?.GetValue<bool>() ?? false, m["isEqual"]?.GetValue<bool>() ?? true))]))];
    }

    /// <summary>Expires a silence now.</summary>
    public async Task ExpireSilenceAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        if (!Guid.TryParse(id, out var guid))
        {
            throw new AlertmanagerException($"'{id}' is not an Alertmanager silence id.");
        }

        await SendAsync(HttpMethod.Delete, "api/v2/silence/" + guid.ToString("D"), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The alerts Alertmanager holds now (active, silenced and inhibited).</summary>
    public async Task<IReadOnlyList<AlertmanagerAlert>> ListAlertsAsync(CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, "api/v2/alerts", null, cancellationToken).ConfigureAwait(false);
        return [.. (answer as JsonArray ?? []).OfType<JsonObject>().Select(a => new AlertmanagerAlert(
            Text(a["fingerprint"]) ?? string.Empty,
            Text(a["status"]?["state"]) ?? "unknown",
            Time(a["startsAt"]),
            (a["labels"] as JsonObject ?? []).Where(p => Text(p.Value) is not null).ToDictionary(p => p.Key, p => Text(p.Value)!, StringComparer.Ordinal),
            [.. (a["status"]?["silencedBy"] as JsonArray ?? []).Select(Text).OfType<string>()]))];
    }

    /// <summary>The base address in force, or null when none is configured.</summary>
    public async Task<Uri?> BaseAddressAsync(CancellationToken cancellationToken)
    {
        var configured = datastore is null ? null : await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, "alertmanager.url", cancellationToken).ConfigureAwait(false);
        var url = configured is { Length: > 0 } text && Uri.TryCreate(text.Trim(), UriKind.Absolute, out var parsed) ? parsed : options.Value.Url;
        if (url is null)
        {
            return null;
        }

        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new AlertmanagerException($"Alertmanager's address {url} is not http(s).");
        }

        return url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        var baseAddress = await BaseAddressAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new AlertmanagerException("Alertmanager's address is not configured: set OpsRobot:Alertmanager:Url, or the system key alertmanager.url.");
        using var request = new HttpRequestMessage(method, new Uri(baseAddress, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        await AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.Value.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AlertmanagerException($"Alertmanager at {baseAddress} did not answer within {options.Value.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new AlertmanagerException($"Could not reach Alertmanager at {baseAddress}: {ex.Message}", ex);
        }

        using (response)
        {
            string text;
            try
            {
                text = await ReadAsync(response, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AlertmanagerException($"Alertmanager at {baseAddress} did not finish its answer within {options.Value.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.", ex);
            }
            catch (HttpRequestException ex)
            {
                throw new AlertmanagerException($"Alertmanager at {baseAddress} broke off its answer: {ex.Message}", ex);
            }

            if (!response.IsSuccessStatusCode)
            {
                var reason = text.Trim();
                reason = Unquote(reason);

                reason = reason.Length > 300 ? reason[..300] + "…" : reason;
                throw new AlertmanagerException($"Alertmanager answered {(int)response.StatusCode} {response.ReasonPhrase}{(reason.Length > 0 ? ": " + reason : string.Empty)}.");
            }

            try
            {
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException ex)
            {
                throw new AlertmanagerException("Alertmanager's answer was not JSON.", ex);
            }
        }
    }

    private async Task AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (datastore is null)
        {
            return;
        }

        if (await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, "alertmanager.api_token", cancellationToken).ConfigureAwait(false) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        }
        else if (await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, "alertmanager.basic_auth", cancellationToken).ConfigureAwait(false) is { Length: > 0 } basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic.Trim())));
        }
    }

    private static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            throw new AlertmanagerException($"Alertmanager's answer is larger than {MaxResponseBytes / (1024 * 1024)} MiB.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
            {
                throw new AlertmanagerException($"Alertmanager's answer is larger than {MaxResponseBytes / (1024 * 1024)} MiB.");
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Alertmanager's errors are JSON strings (<c>"silence not found"</c>), sometimes plain text.</summary>
    private static string Unquote(string reason)
    {
        if (!reason.StartsWith('"'))
        {
            return reason;
        }

        try
        {
            return JsonNode.Parse(reason) is JsonValue v && v.TryGetValue<string>(out var s) ? s : reason;
        }
        catch (JsonException)
        {
            return reason;
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static DateTimeOffset Time(JsonNode? node) =>
        Text(node) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue;
}
