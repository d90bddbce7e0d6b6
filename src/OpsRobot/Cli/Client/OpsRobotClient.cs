using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Hosting;

namespace OpsRobot.Cli.Client;

/// <summary>
/// The command line's view of a running OpsRobot server: a thin wrapper on <see cref="HttpClient"/> that speaks
/// docs/api.md. Every way a call can go wrong becomes a <see cref="ClientException"/> whose message is one line a
/// person can act on; the verbs turn it into that line and an exit code, never a stack trace.
/// </summary>
internal sealed class OpsRobotClient : IDisposable
{
    /// <summary>The environment variable that points the command line at a server.</summary>
    public const string UrlVariable = "OPSROBOT_URL";

    /// <summary>Where <c>opsrobot serve</c> listens unless configured otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>How long a connection attempt may take before the server counts as not answering.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a plain (not streamed) call may take, answer included.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);

    private readonly HttpClient _http;

    private OpsRobotClient(Uri baseAddress, HttpMessageHandler handler)
    {
        BaseAddress = baseAddress;

        // No client-wide timeout: an output stream may rightly last for hours. Plain calls get RequestTimeout each.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("opsrobot-cli", Composition.ProductVersion.Split('+')[0]));
    }

    /// <summary>The server's address as the user gave it (for messages), e.g. <c>http://127.0.0.1:5080</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server's address for messages: what the user typed, without a trailing slash.</summary>
    public string DisplayAddress => BaseAddress.OriginalString.TrimEnd('/');

    /// <summary>
    /// A client for <paramref name="url"/> (the <c>--url</c> option), else <c>OPSROBOT_URL</c>, else
    /// <see cref="DefaultUrl"/>. Throws a <see cref="ClientUsageException"/> when the address is not an http(s) URL.
    /// </summary>
    public static OpsRobotClient Create(string? url)
    {
        var (text, from) = !string.IsNullOrWhiteSpace(url)
            ? (url.Trim(), "--url")
            : Environment.GetEnvironmentVariable(UrlVariable) is { } env && !string.IsNullOrWhiteSpace(env)
                ? (env.Trim(), UrlVariable)
                : (DefaultUrl, "the default");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ClientUsageException($"'{OneLine(text)}' (from {from}) is not a server address; give one like {DefaultUrl}.");
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,

            // A local tool talking to one server: a proxy from the environment would only get in the way of 127.0.0.1.
            UseProxy = !uri.IsLoopback,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
        };
        var client = new OpsRobotClient(uri, handler);
        if (Credentials.Find(uri) is { } credential)
        {
            client._http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential.Secret);
            client.CredentialSource = credential.From;
        }

        return client;
    }

    /// <summary>Where the credential sent came from (for messages), or null when none is sent.</summary>
    public string? CredentialSource { get; private set; }

    /// <summary>Sends a JSON call and returns the answer's JSON; a non-success answer throws <see cref="ApiException"/>.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = NewRequest(method, path, body);
        return await ExchangeAsync(request, cancellationToken);
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends text (a file to import) as the body and returns the answer's JSON; a non-success answer throws <see cref="ApiException"/>.</summary>
    public async Task<JsonElement> SendTextAsync(HttpMethod method, string path, string body, string mediaType, CancellationToken cancellationToken)
    {
        using var request = NewRequest(method, path, null);
        request.Content = new StringContent(body, Encoding.UTF8, mediaType);
        return await ExchangeAsync(request, cancellationToken);
    }

    /// <summary>Sends <paramref name="request"/> within the request timeout and reads its JSON answer.</summary>
    private async Task<JsonElement> ExchangeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        var text = await ReadBodyAsync(request, response, timeout.Token, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw ApiError(request, response, text);
        }

        return ParseJson(request, response, text);
    }

    /// <summary>A state-changing call: the API wants a JSON body (<c>{}</c> when there is nothing to say).</summary>
    public Task<JsonElement> PostAsync(string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body ?? new JsonObject(), cancellationToken);

    /// <summary>Reads a <c>text/plain</c> answer.</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var request = NewRequest(HttpMethod.Get, path, null);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        var text = await ReadBodyAsync(request, response, timeout.Token, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw ApiError(request, response, text);
        }

        if (response.Content.Headers.ContentType?.MediaType is { } type && !type.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
        {
            throw new UnexpectedAnswerException($"{Describe(request)} answered {type}, not text. Is {DisplayAddress} an OpsRobot server?");
        }

        return text;
    }

    /// <summary>
    /// Opens a server-sent event stream. Only the headers are awaited (with the connect and request limits); the
    /// caller reads the body for as long as the server keeps it open, and disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> OpenEventStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = NewRequest(HttpMethod.Get, path, null);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        var response = await SendCoreAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token, cancellationToken);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await ReadBodyAsync(request, response, timeout.Token, cancellationToken);
                throw ApiError(request, response, text);
            }

            if (!string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                throw new UnexpectedAnswerException(
                    $"{Describe(request)} answered {response.Content.Headers.ContentType?.MediaType ?? "without a content type"}, not an event stream. Is {DisplayAddress} an OpsRobot server?");
            }

            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A relative API path below the base address, which may itself have a path (a reverse proxy's prefix).</summary>
    private Uri Resolve(string path)
    {
        var baseText = BaseAddress.AbsoluteUri;
        return new Uri(baseText.EndsWith('/') ? baseText + path.TrimStart('/') : baseText + "/" + path.TrimStart('/'));
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string path, JsonNode? body)
    {
        var request = new HttpRequestMessage(method, Resolve(path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendCoreAsync(
        HttpRequestMessage request, HttpCompletionOption completion, CancellationToken timeoutToken, CancellationToken userToken)
    {
        try
        {
            return await _http.SendAsync(request, completion, timeoutToken);
        }
        catch (HttpRequestException ex) when (IsNoServer(ex))
        {
            throw new ServerUnreachableException(DisplayAddress, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new UnexpectedAnswerException($"{Describe(request)} failed: {OneLine(ex.Message)}", ex);
        }
        catch (OperationCanceledException ex) when (!userToken.IsCancellationRequested)
        {
            // The connect limit surfaces as a cancellation with a TimeoutException inside; the request limit as ours.
            if (ex.InnerException is TimeoutException)
            {
                throw new ServerUnreachableException(DisplayAddress, ex);
            }

            throw new UnexpectedAnswerException(
                $"{Describe(request)} got no answer within {RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.", ex);
        }
    }

    private static async Task<string> ReadBodyAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken timeoutToken, CancellationToken userToken)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(timeoutToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException
                                       || (ex is OperationCanceledException && !userToken.IsCancellationRequested))
        {
            throw new UnexpectedAnswerException($"{Describe(request)}: the answer was cut off ({OneLine(ex.Message)}).", ex);
        }
    }

    private JsonElement ParseJson(HttpRequestMessage request, HttpResponseMessage response, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new UnexpectedAnswerException(
                $"{Describe(request)} answered HTTP {(int)response.StatusCode} with {response.Content.Headers.ContentType?.MediaType ?? "a body"} that is not JSON. Is {DisplayAddress} an OpsRobot server?", ex);
        }
    }

    /// <summary>An error answer: OpsRobot's <c>{"error": "..."}</c> when it is one, else a description of what came.</summary>
    private ClientException ApiError(HttpRequestMessage request, HttpResponseMessage response, string text)
    {
        var status = (int)response.StatusCode;
        string? error = null;
        JsonElement? body = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            body = document.RootElement.Clone();
            if (body.Value.ValueKind == JsonValueKind.Object && body.Value.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
            {
                error = e.GetString();
            }
        }
        catch (JsonException)
        {
            // Not OpsRobot's error shape: described below.
        }

        if (error is null)
        {
            var what = string.IsNullOrWhiteSpace(text) ? "an empty body" : response.Content.Headers.ContentType?.MediaType ?? "a body without a content type";
            return new UnexpectedAnswerException(
                $"{Describe(request)} answered HTTP {status} {response.ReasonPhrase} with {what}, not an OpsRobot error. Is {DisplayAddress} an OpsRobot server of this version?");
        }

        if (status == 401 && !request.RequestUri!.AbsolutePath.EndsWith("/auth/token", StringComparison.Ordinal))
        {
            error = CredentialSource is null
                ? $"not signed in to {DisplayAddress}: run 'opsrobot login' (or set {Credentials.KeyVariable} to an API key)."
                : $"{DisplayAddress} refused the credential from {CredentialSource} (unknown, expired or revoked): run 'opsrobot login' again.";
        }

        return new ApiException(status, OneLine(error), body);
    }

    private static string Describe(HttpRequestMessage request) => $"{request.Method} {request.RequestUri?.AbsolutePath}";

    private static bool IsNoServer(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
        || ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.TimedOut or SocketError.NetworkUnreachable or SocketError.HostUnreachable };

    /// <summary>Keeps a message on one line, so an answer cannot break the one-line contract of the verbs.</summary>
    internal static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Trim())
        {
            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString();
    }
}

/// <summary>Something went wrong that one line on standard error explains; <see cref="ExitCode"/> says how the verb ends.</summary>
internal abstract class ClientException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Nothing listens at the server's address (refused, unreachable, or the connection did not open in time).</summary>
internal sealed class ServerUnreachableException(string address, Exception? inner = null)
    : ClientException($"no OpsRobot server answers at {address}. Start one with: ./opsrobot serve (or set {OpsRobotClient.UrlVariable}).", ExitCodes.NoServer, inner);

/// <summary>The server answered with OpsRobot's <c>{"error": ...}</c> and a non-success status.</summary>
internal sealed class ApiException(int statusCode, string error, JsonElement? body)
    : ClientException(error, statusCode is >= 400 and < 500 ? ExitCodes.Refused : ExitCodes.Failed)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>The whole error answer, for fields beside <c>error</c> (suggestions, choices).</summary>
    public JsonElement? Body { get; } = body;
}

/// <summary>The answer was not what docs/api.md promises (not JSON, a wrong shape, cut off).</summary>
internal sealed class UnexpectedAnswerException(string message, Exception? inner = null) : ClientException(message, ExitCodes.Failed, inner);

/// <summary>What the user typed cannot be sent (a malformed <c>key=value</c>, a bad address).</summary>
internal sealed class ClientUsageException(string message) : ClientException(message, ExitCodes.Refused);

/// <summary>The exit codes of the client verbs, documented in each verb's help.</summary>
internal static class ExitCodes
{
    public const int Succeeded = 0;
    public const int Failed = 1;
    public const int Refused = 2;
    public const int NoServer = 3;
    public const int Timeout = 4;
    public const int Canceled = 5;
    public const int Interrupted = 130;
}
