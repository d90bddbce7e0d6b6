using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Http;

/// <summary>
/// Sends one HTTP request: StackStorm's <c>http-request</c> runner. Parameters (StackStorm's names): <c>url</c>
/// (required, http or https), <c>method</c> (default GET, or POST when there is a body), <c>headers</c>,
/// <c>body</c> (a string is sent as it is; anything else as JSON), <c>params</c> (query string), <c>cookies</c>,
/// <c>timeout</c> (seconds, default 60), <c>verify_ssl_cert</c> (default true), <c>allow_redirects</c> (default
/// false), <c>username</c>/<c>password</c> (basic authentication), <c>url_hosts_blacklist</c> /
/// <c>url_hosts_whitelist</c>. The result is <c>{ status_code, body, parsed, headers }</c>; the body is parsed
/// when the answer is JSON. Only status 200–206 succeeds, as in StackStorm.
/// </summary>
public sealed partial class HttpRunner : IRunner
{
    internal static readonly IReadOnlySet<string> RunnerParameterNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "url", "method", "headers", "body", "params", "cookies", "timeout", "verify_ssl_cert", "allow_redirects",
        "username", "password", "url_hosts_blacklist", "url_hosts_whitelist",
    };

    private static readonly string UserAgent =
        "OpsRobot/" + (typeof(HttpRunner).Assembly.GetName().Version?.ToString(3) ?? "0");

    private readonly IHttpClientFactory _clients;
    private readonly HttpRunnerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HttpRunner> _logger;

    public HttpRunner(IHttpClientFactory clients, IOptions<HttpRunnerOptions> options, TimeProvider time, ILogger<HttpRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _clients = clients;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<string> Names { get; } = ["http", "http-request"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var url = RunnerParameters.Declared(action, "url");
        if (url is null)
        {
            yield return "An http action needs a 'url' parameter: the address to call.";
            yield break;
        }

        // A literal default can be checked now; a templated one only when it is rendered.
        if (url.Default is JsonValue value && value.TryGetValue<string>(out var text)
            && !text.Contains("{{", StringComparison.Ordinal) && !text.Contains("<%", StringComparison.Ordinal)
            && !IsHttpUrl(text, out _))
        {
            yield return "The default of parameter 'url' is not an absolute http:// or https:// URL.";
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (cancellationToken.IsCancellationRequested)
        {
            return RunnerResults.CanceledBeforeStart();
        }

        var p = context.Parameters;
        if (!RunnerParameters.TryGetString(p, "url", out var url, out var error)
            || !RunnerParameters.TryGetString(p, "method", out var method, out error)
            || !RunnerParameters.TryGetObject(p, "headers", out var headers, out error)
            || !RunnerParameters.TryGetObject(p, "params", out var query, out error)
            || !RunnerParameters.TryGetObject(p, "cookies", out var cookies, out error)
            || !RunnerParameters.TryGetNumber(p, "timeout", out var timeoutSeconds, out error)
            || !RunnerParameters.TryGetBoolean(p, "verify_ssl_cert", true, out var verify, out error)
            || !RunnerParameters.TryGetBoolean(p, "allow_redirects", false, out var followRedirects, out error)
            || !RunnerParameters.TryGetString(p, "username", out var username, out error)
            || !RunnerParameters.TryGetString(p, "password", out var password, out error)
            || !TryGetHostList(p, "url_hosts_blacklist", out var blacklist, out error)
            || !TryGetHostList(p, "url_hosts_whitelist", out var whitelist, out error))
        {
            return RunnerResults.Failed(error!);
        }

        if (url is null)
        {
            return RunnerResults.Failed("Parameter 'url' is required: the address to call.");
        }

        // The URL is never repeated in an error: it may carry a token.
        if (!IsHttpUrl(url, out var uri))
        {
            return RunnerResults.Failed("Parameter 'url' must be an absolute http:// or https:// URL.");
        }

        if (blacklist.Count > 0 && whitelist.Count > 0)
        {
            return RunnerResults.Failed("Parameters 'url_hosts_blacklist' and 'url_hosts_whitelist' are mutually exclusive; give only one.");
        }

        var host = uri.DnsSafeHost.Trim('[', ']');
        if (blacklist.Contains(host))
        {
            return RunnerResults.Failed($"Host '{host}' is in url_hosts_blacklist.");
        }

        if (whitelist.Count > 0 && !whitelist.Contains(host))
        {
            return RunnerResults.Failed($"Host '{host}' is not in url_hosts_whitelist.");
        }

        var body = RunnerParameters.Get(p, "body");
        method = (method ?? (body is null ? "GET" : "POST")).ToUpperInvariant();
        if (method.Length == 0 || !method.All(IsTokenChar))
        {
            return RunnerResults.Failed("Parameter 'method' is not a valid HTTP method.");
        }

        // A day is far beyond any sane request; the execution's own timeout still applies through the token.
        if (timeoutSeconds is { } seconds && !(seconds > 0 && seconds <= 86_400))
        {
            return RunnerResults.Failed("Parameter 'timeout' must be a positive number of seconds (at most 86400).");
        }

        var timeout = timeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : _options.DefaultTimeout;

        // Credentials in the URL (https://user:pass@host/) mean basic authentication, as in Python requests;
        // HttpClient would silently drop them.
        if (username is null && password is null && uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? string.Empty : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), WithQuery(uri, query));
        error = Prepare(request, context, body, headers, cookies, username, password);
        if (error is not null)
        {
            return RunnerResults.Failed(error);
        }

        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        var client = _clients.CreateClient(HttpRunnerClients.Name(verify, followRedirects));
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return await ReadResponseAsync(response, context, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new RunnerResult(RunnerOutcome.Canceled, null, null, "Canceled: the request was aborted.");
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested)
        {
            LogFailed(_logger, context.ExecutionId, context.Action.Ref, "timeout");
            return RunnerResults.Failed(string.Create(CultureInfo.InvariantCulture, $"The request timed out after {timeout.TotalSeconds:0.###} s (parameter 'timeout')."));
        }
        catch (HttpRequestException ex)
        {
            LogFailed(_logger, context.ExecutionId, context.Action.Ref, ex.HttpRequestError.ToString());
            return RunnerResults.Failed(Explain(ex, verify));
        }
        catch (IOException ex)
        {
            // The connection broke while the body was being read.
            LogFailed(_logger, context.ExecutionId, context.Action.Ref, ex.GetType().Name);
            return RunnerResults.Failed($"The response could not be read: {ex.Message}");
        }
    }

    /// <summary>Body, headers, cookies, authentication; returns an error sentence when one of them cannot be sent.</summary>
    private static string? Prepare(HttpRequestMessage request, RunnerContext context, JsonNode? body, JsonObject? headers, JsonObject? cookies, string? username, string? password)
    {
        if (body is not null)
        {
            var isText = body.GetValueKind() == JsonValueKind.String;
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(RunnerParameters.ToText(body)));
            if (!isText)
            {
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }
        }

        foreach (var (name, node) in headers ?? [])
        {
            if (node is null)
            {
                continue;
            }

            var value = RunnerParameters.ToText(node);
            if (name.Length == 0 || !name.All(IsTokenChar))
            {
                return "Parameter 'headers' has a header name that is not a valid HTTP token.";
            }

            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                return $"Header '{name}' contains a line break or NUL, which would let it forge other headers.";
            }

            if (string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue; // Computed from the body; a wrong one would corrupt the request.
            }

            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                // A content header (Content-Type, …): it belongs to the body, even an empty one.
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                if (!request.Content.Headers.TryAddWithoutValidation(name, value))
                {
                    return $"Header '{name}' cannot be set on a request.";
                }
            }
        }

        if (cookies is { Count: > 0 })
        {
            var pairs = new List<string>();
            foreach (var (name, node) in cookies)
            {
                var value = node is null ? string.Empty : RunnerParameters.ToText(node);
                if (name.Length == 0 || !name.All(IsTokenChar) || value.AsSpan().IndexOfAny("\r\n\0;") >= 0)
                {
                    return "Parameter 'cookies' has a name that is not a valid token or a value with a line break, NUL or ';'.";
                }

                pairs.Add(name + "=" + value);
            }

            request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", pairs));
        }

        if (username is not null || password is not null)
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes((username ?? string.Empty) + ":" + (password ?? string.Empty)));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
        }

        if (request.Headers.UserAgent.Count == 0 && !request.Headers.Contains("User-Agent"))
        {
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        }

        // StackStorm sends X-Stanley-Action so requests can be traced back; this is ours.
        request.Headers.TryAddWithoutValidation("X-OpsRobot-Action", context.Action.Ref);
        request.Headers.TryAddWithoutValidation("X-OpsRobot-Execution", context.ExecutionId);
        return null;
    }

    private async Task<RunnerResult> ReadResponseAsync(HttpResponseMessage response, RunnerContext context, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var reason = response.ReasonPhrase ?? string.Empty;
        var responseHeaders = new JsonObject();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            responseHeaders[name] = string.Join(", ", values);
        }

        var limit = _options.MaxResponseBodyBytes;
        var bytes = await ReadBodyAsync(response.Content, limit, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            var tooLarge = string.Create(CultureInfo.InvariantCulture, $"The response body is larger than the {limit}-byte limit (HttpRunnerOptions.MaxResponseBodyBytes); it was not read.");
            context.Output.Write(OutputKind.Stderr, tooLarge + "\n");
            var partial = new JsonObject { ["status_code"] = status, ["body"] = null, ["parsed"] = false, ["headers"] = responseHeaders, ["error"] = tooLarge };
            return new RunnerResult(RunnerOutcome.Failed, partial, null, tooLarge);
        }

        var (body, parsed) = Decode(bytes, response.Content.Headers.ContentType);
        var result = new JsonObject { ["status_code"] = status, ["body"] = body, ["parsed"] = parsed, ["headers"] = responseHeaders };
        context.Output.Write(OutputKind.Stdout, string.Create(CultureInfo.InvariantCulture, $"HTTP {status} {reason} ({bytes.Length} bytes)\n"));

        // StackStorm's SUCCESS_STATUS_CODES: 200–206. A redirect that is not followed is a failure too.
        return status is >= 200 and <= 206
            ? new RunnerResult(RunnerOutcome.Succeeded, result, null, null)
            : new RunnerResult(RunnerOutcome.Failed, result, null, string.Create(CultureInfo.InvariantCulture, $"HTTP {status} {reason}").TrimEnd());
    }

    /// <summary>The body's bytes, or null when there are more than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        return null;
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>
    /// Text in the declared charset (UTF-8 when none or unknown); parsed when the media type is JSON
    /// (<c>application/json</c> as StackStorm, plus <c>+json</c> types such as <c>application/problem+json</c>).
    /// A JSON answer that does not parse stays text with <c>parsed: false</c>.
    /// </summary>
    private static (JsonNode? Body, bool Parsed) Decode(byte[] bytes, MediaTypeHeaderValue? contentType)
    {
        var encoding = Encoding.UTF8;
        if (contentType?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // Unknown charset: UTF-8 is the best guess.
            }
        }

        var preamble = encoding.Preamble;
        var span = bytes.AsSpan();
        if (!preamble.IsEmpty && span.StartsWith(preamble))
        {
            span = span[preamble.Length..];
        }

        var text = encoding.GetString(span);
        var mediaType = contentType?.MediaType;
        var isJson = mediaType is not null
            && (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        if (!isJson)
        {
            return (JsonValue.Create(text), false);
        }

        try
        {
            return (JsonNode.Parse(text), true);
        }
        catch (JsonException)
        {
            return (JsonValue.Create(text), false);
        }
    }

    private static string Explain(HttpRequestException ex, bool verify)
    {
        if (ex.InnerException is AuthenticationException tls)
        {
            return verify
                ? $"The TLS connection could not be established: {tls.Message} The server's certificate was checked (verify_ssl_cert is true by default); set verify_ssl_cert: false only for an endpoint you trust."
                : $"The TLS connection could not be established: {tls.Message}";
        }

        return ex.InnerException is { } inner && inner.Message != ex.Message
            ? $"The request failed: {ex.Message} ({inner.Message})"
            : $"The request failed: {ex.Message}";
    }

    private static bool IsHttpUrl(string text, out Uri uri)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var parsed)
            && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
            && parsed.Host.Length > 0)
        {
            uri = parsed;
            return true;
        }

        uri = null!;
        return false;
    }

    /// <summary>Appends <c>params</c> to the URL's query; an array gives the key once per item, as Python requests does.</summary>
    private static Uri WithQuery(Uri uri, JsonObject? query)
    {
        if (query is null || query.Count == 0)
        {
            return uri;
        }

        var sb = new StringBuilder(uri.Query.TrimStart('?'));
        foreach (var (name, node) in query)
        {
            IEnumerable<JsonNode?> values = node is JsonArray array ? array : Enumerable.Repeat(node, 1);
            foreach (var value in values)
            {
                if (value is null)
                {
                    continue;
                }

                if (sb.Length > 0)
                {
                    sb.Append('&');
                }

                sb.Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(RunnerParameters.ToText(value)));
            }
        }

        return new UriBuilder(uri) { Query = sb.ToString() }.Uri;
    }

    private static bool TryGetHostList(IReadOnlyDictionary<string, JsonNode?> parameters, string name, out HashSet<string> hosts, out string? error)
    {
        hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        error = null;
        var node = RunnerParameters.Get(parameters, name);
        if (node is null)
        {
            return true;
        }

        if (node is not JsonArray array || array.Any(item => item?.GetValueKind() != JsonValueKind.String))
        {
            error = $"Parameter '{name}' must be an array of host names.";
            return false;
        }

        foreach (var item in array)
        {
            hosts.Add(RunnerParameters.StringOf(item!).Trim('[', ']'));
        }

        return true;
    }

    /// <summary>RFC 9110 token characters (method and header names).</summary>
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    [LoggerMessage(EventId = 8101, Level = LogLevel.Information, Message = "Execution {ExecutionId} of {ActionRef}: HTTP request failed ({Reason})")]
    private static partial void LogFailed(ILogger logger, string executionId, string actionRef, string reason);
}
