using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Cmdb;
using OpsRobot.Integrations.Secrets;

namespace OpsRobot.Integrations.Cmdb;

/// <summary>
/// A team's existing CMDB over HTTP as <see cref="IHostInventory"/>, read-only and configured, not coded
/// (<see cref="HttpCmdbOptions"/>): two URL templates (one host, a search), a credential header whose secret is a
/// datastore key, and dotted paths that map the remote JSON onto <see cref="HostRecord"/>. Answers are cached for
/// <see cref="HttpCmdbOptions.CacheFor"/>. Every failure (unreachable, an error status, an answer that is not
/// JSON or not shaped as configured, too slow) becomes a <see cref="CmdbException"/> that says which.
/// </summary>
public sealed partial class HttpHostInventory : IHostInventory
{
    public const string ClientName = "opsrobot-cmdb";

    private const int MaxCacheEntries = 1024;

    private readonly IHttpClientFactory _clients;
    private readonly CmdbOptions _options;
    private readonly TimeProvider _time;
    private readonly ISecretSource _secrets;
    private readonly ILogger<HttpHostInventory> _logger;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, object? Value)> _cache = new(StringComparer.Ordinal);

    public HttpHostInventory(IHttpClientFactory clients, IOptions<CmdbOptions> options, TimeProvider time, ISecretSource secrets, ILogger<HttpHostInventory> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clients = clients;
        _options = options.Value;
        _time = time;
        _secrets = secrets;
        _logger = logger;
    }

    private HttpCmdbOptions Http => _options.Http;

    public async Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken)
    {
        if (HostRules.CanonicalHostname(hostname?.Trim()) is not { } name)
        {
            return null;
        }

        var path = Expand(Http.FindTemplate, new Dictionary<string, string?>(StringComparer.Ordinal) { ["hostname"] = name, ["name"] = name });
        return await CachedAsync("find " + path, async () =>
        {
            var answer = await GetAsync(path, allowNotFound: true, cancellationToken).ConfigureAwait(false);
            if (answer is null)
            {
                return null;
            }

            var node = At(answer, Http.FindResultPath);
            if (node is not JsonObject obj)
            {
                throw Shape($"has no host object at '{Http.FindResultPath}' (OpsRobot:Cmdb:Http:FindResultPath)");
            }

            var host = Map(obj);
            return host is not null && string.Equals(host.Hostname, name, StringComparison.Ordinal) ? host : null;
        }).ConfigureAwait(false) as HostRecord;
    }

    public async Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = Expand(Http.QueryTemplate, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["name"] = query.Name,
            ["hostname"] = query.Name,
            ["application"] = query.Application?.Trim('/'),
            ["environment"] = query.Environment,
            ["status"] = query.Status,
            ["owner"] = query.Owner,
            ["tags"] = query.Tags is { Count: > 0 } tags ? string.Join(',', tags) : null,
        });
        var hosts = (IReadOnlyList<HostRecord>)(await CachedAsync("query " + path, async () =>
        {
            var answer = await GetAsync(path, allowNotFound: false, cancellationToken).ConfigureAwait(false);
            if (At(answer!, Http.QueryResultPath) is not JsonArray array)
            {
                throw Shape($"has no array of hosts at '{Http.QueryResultPath}' (OpsRobot:Cmdb:Http:QueryResultPath)");
            }

            var list = new List<HostRecord>(array.Count);
            var skipped = 0;
            foreach (var item in array)
            {
                if (item is JsonObject obj && Map(obj) is { } host)
                {
                    list.Add(host);
                }
                else
                {
                    skipped++;
                }
            }

            if (skipped > 0)
            {
                LogSkipped(_logger, skipped, Http.Fields.Hostname);
            }

            return list;
        }).ConfigureAwait(false))!;

        // The remote CMDB may ignore a filter it does not know; the answer is filtered again here.
        return [.. hosts.Where(h => HostRules.Matches(h, query)).OrderBy(h => h.Hostname, StringComparer.Ordinal)];
    }

    /// <summary>Maps a remote host object; null when it has no usable host name.</summary>
    internal HostRecord? Map(JsonObject obj)
    {
        var fields = Http.Fields;
        if (HostRules.CanonicalHostname(Scalar(At(obj, fields.Hostname))?.Trim()) is not { } hostname)
        {
            return null;
        }

        var addresses = Strings(At(obj, fields.Addresses)).Select(HostRules.CanonicalAddress).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var tags = Strings(At(obj, fields.Tags)).Select(t => t.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var attributes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (At(obj, fields.Attributes) is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                if (Scalar(value) is { } text && AttributeKey(key))
                {
                    attributes[key] = text;
                }
            }
        }

        var status = Scalar(At(obj, fields.Status))?.Trim().ToLowerInvariant();
        return new HostRecord(
            hostname,
            addresses,
            Blank(Scalar(At(obj, fields.Environment)))?.ToLowerInvariant(),
            Blank(Scalar(At(obj, fields.Application))?.Trim('/')),
            tags,
            Blank(Scalar(At(obj, fields.Owner))),
            string.IsNullOrEmpty(status) ? HostStatuses.Active : status,
            attributes);
    }

    private async Task<object?> CachedAsync(string key, Func<Task<object?>> load)
    {
        var now = _time.GetUtcNow();
        if (Http.CacheFor > TimeSpan.Zero && _cache.TryGetValue(key, out var hit) && hit.Until > now)
        {
            return hit.Value;
        }

        var value = await load().ConfigureAwait(false);
        if (Http.CacheFor > TimeSpan.Zero)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }

            _cache[key] = (now + Http.CacheFor, value);
        }

        return value;
    }

    private async Task<JsonNode?> GetAsync(string relative, bool allowNotFound, CancellationToken cancellationToken)
    {
        if (Http.BaseUrl is not { IsAbsoluteUri: true } baseUrl || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new CmdbException(CmdbErrorKind.Unavailable,
                "OpsRobot:Cmdb:Source is http, but OpsRobot:Cmdb:Http:BaseUrl is not set to an http(s) URL; set it, or set Source to builtin.");
        }

        var where = Where(baseUrl);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(WithSlash(baseUrl), relative));
        request.Headers.Accept.ParseAdd("application/json");
        if (!string.IsNullOrWhiteSpace(Http.AuthHeader))
        {
            request.Headers.TryAddWithoutValidation(Http.AuthHeader, Http.AuthPrefix + await SecretAsync(cancellationToken).ConfigureAwait(false));
        }

        using var timeout = new CancellationTokenSource(Http.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound && allowNotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CmdbException(CmdbErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture,
                    $"The CMDB at {where} answered {(int)response.StatusCode} {response.ReasonPhrase} to GET {request.RequestUri!.AbsolutePath}."));
            }

            if (response.Content.Headers.ContentLength > Http.MaxResponseBytes)
            {
                throw TooBig(where);
            }

            await using var body = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, linked.Token).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > Http.MaxResponseBytes)
                {
                    throw TooBig(where);
                }

                buffer.Write(chunk, 0, read);
            }

            try
            {
                return JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { MaxDepth = 64 })
                    ?? throw Shape("is JSON null");
            }
            catch (JsonException ex)
            {
                throw new CmdbException(CmdbErrorKind.Unavailable, $"The CMDB at {where} answered with something that is not JSON ({FirstSentence(ex.Message)}).", ex);
            }
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CmdbException(CmdbErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture,
                $"The CMDB at {where} did not answer within {Http.Timeout.TotalSeconds:0.#} seconds (OpsRobot:Cmdb:Http:Timeout)."), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new CmdbException(CmdbErrorKind.Unavailable, $"The CMDB at {where} cannot be reached: {ex.Message}", ex);
        }
    }

    private async Task<string> SecretAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(Http.AuthSecretKey))
        {
            throw new CmdbException(CmdbErrorKind.Unavailable,
                "OpsRobot:Cmdb:Http:AuthHeader is set but AuthSecretKey is not: name the system datastore key (a secret) that holds the CMDB's credential.");
        }

        var (secret, error) = await _secrets.GetAsync(Http.AuthSecretKey, cancellationToken).ConfigureAwait(false);
        return secret ?? throw new CmdbException(CmdbErrorKind.Unavailable, $"The CMDB's credential cannot be read: {error}.");
    }

    /// <summary>Fills <c>{name}</c> placeholders with URL-encoded values (empty when not given).</summary>
    internal static string Expand(string template, IReadOnlyDictionary<string, string?> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        var result = new System.Text.StringBuilder(template.Length + 32);
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = open < 0 ? -1 : template.IndexOf('}', open + 1);
            if (open < 0 || close < 0)
            {
                result.Append(template, i, template.Length - i);
                break;
            }

            result.Append(template, i, open - i);
            var key = template[(open + 1)..close];
            result.Append(values.TryGetValue(key, out var value) ? Uri.EscapeDataString(value ?? string.Empty) : template[open..(close + 1)]);
            i = close + 1;
        }

        return result.ToString().TrimStart('/');
    }

    /// <summary>The node at a dotted path (<c>data.hosts</c>, <c>ips.0</c>); the node itself for an empty path.</summary>
    internal static JsonNode? At(JsonNode node, string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return node;
        }

        JsonNode? current = node;
        foreach (var part in path.Split('.'))
        {
            current = current switch
            {
                JsonObject obj => obj[part],
                JsonArray array when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count => array[index],
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    private static string? Scalar(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
            _ => null,
        }
        : null;

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(Scalar).OfType<string>().Select(s => s.Trim()).Where(s => s.Length > 0),
        JsonValue => (Scalar(node) ?? string.Empty).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => [],
    };

    private static bool AttributeKey(string key) =>
        key.Length is > 0 and <= 64 && key[0] is >= 'a' and <= 'z' && key.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '.');

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static Uri WithSlash(Uri baseUrl) => baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");

    /// <summary>The CMDB's address for messages: scheme, host and port, never credentials or a query.</summary>
    private static string Where(Uri baseUrl) => baseUrl.GetLeftPart(UriPartial.Authority).Replace(baseUrl.UserInfo + "@", string.Empty, StringComparison.Ordinal);

    private static CmdbException Shape(string problem) =>
        new(CmdbErrorKind.Unavailable, $"The CMDB's answer {problem}; check the OpsRobot:Cmdb:Http settings against what it sends.");

    private CmdbException TooBig(string where) =>
        new(CmdbErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture, $"The CMDB at {where} sent more than {Http.MaxResponseBytes} bytes (OpsRobot:Cmdb:Http:MaxResponseBytes)."));

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }

    [LoggerMessage(EventId = 8201, Level = LogLevel.Warning, Message = "The HTTP CMDB sent {Count} hosts without a valid host name at '{Field}'; they are left out")]
    private static partial void LogSkipped(ILogger logger, int count, string field);
}
