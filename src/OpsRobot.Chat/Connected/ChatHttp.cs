using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Chat.Connected;

/// <summary>
/// JSON over HTTP for chat platform APIs: one place that reads a 429's wait, tells a transient failure (5xx, a
/// dropped connection, a timeout) from a refusal (4xx), caps what it reads, and never puts a token in an error.
/// </summary>
public static class ChatHttp
{
    /// <summary>The longest wait a 429 may impose; a longer one is capped so a confused header cannot park the robot for a day.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(15);

    /// <summary>The wait assumed when a 429 does not say how long.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>A new HTTP client for one adapter: pooled connections renewed every few minutes (DNS changes), bounded answers.</summary>
    public static HttpClient CreateClient(TimeSpan timeout) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
    })
    {
        Timeout = timeout,
        MaxResponseContentBufferSize = 8 * 1024 * 1024,
    };

    /// <summary>A request with a JSON body (or none when <paramref name="body"/> is null).</summary>
    public static HttpRequestMessage Json(HttpMethod method, Uri url, JsonNode? body)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the JSON object answered. Throws
    /// <see cref="ChatRateLimitedException"/> on 429, <see cref="ChatApiException"/> (transient or not) otherwise.
    /// </summary>
    public static async Task<JsonObject> SendAsync(HttpClient client, HttpRequestMessage request, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        var what = $"{request.Method} {request.RequestUri?.AbsolutePath}";
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new ChatApiException($"{what} failed: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChatApiException($"{what} took longer than {client.Timeout.TotalSeconds:0} s.", ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var wait = RetryAfter(response, time);
                throw new ChatRateLimitedException($"{what} was rate limited; retrying in {wait.TotalSeconds:0.#} s.", wait);
            }

            string text;
            try
            {
                text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new ChatApiException($"{what}: the answer could not be read: {ex.Message}", ex);
            }

            if ((int)response.StatusCode >= 500)
            {
                throw new ChatApiException($"{what} failed with HTTP {(int)response.StatusCode}.", transient: true);
            }

            JsonObject? json = null;
            try
            {
                json = text.Length == 0 ? null : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
            }
            catch (JsonException)
            {
                // Reported below as what it is: not the JSON object the API documents.
            }

            if (!response.IsSuccessStatusCode)
            {
                var reason = json is null ? string.Empty : ErrorText(json);
                var status = (int)response.StatusCode;
                var hint = status is 401 or 403 ? " The token was refused: check it and the bot's permissions." : string.Empty;
                throw new ChatApiException($"{what} was refused with HTTP {status}{(reason.Length > 0 ? ": " + reason : string.Empty)}.{hint}", transient: status is 408 or 409 or 425);
            }

            return json ?? throw new ChatApiException($"{what} answered something other than a JSON object.", transient: true);
        }
    }

    /// <summary>
    /// How long a 429 asks to wait: <c>Retry-After</c> (seconds or a date), else <c>X-RateLimit-Reset</c>, read as
    /// Unix milliseconds (Rocket.Chat), Unix seconds, or seconds from now (Mattermost) by its size.
    /// </summary>
    public static TimeSpan RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(time);
        TimeSpan? wait = null;
        if (response.Headers.RetryAfter is { } retry)
        {
            wait = retry.Delta ?? (retry.Date is { } date ? date - time.GetUtcNow() : null);
        }
        else if (response.Headers.TryGetValues("X-RateLimit-Reset", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var reset))
        {
            var now = time.GetUtcNow();
            wait = reset switch
            {
                > 1e12 => DateTimeOffset.FromUnixTimeMilliseconds((long)reset) - now,
                > 1e9 => DateTimeOffset.FromUnixTimeSeconds((long)reset) - now,
                _ => TimeSpan.FromSeconds(reset),
            };
        }

        var value = wait ?? DefaultRetryAfter;
        if (value < TimeSpan.FromMilliseconds(100))
        {
            value = TimeSpan.FromMilliseconds(100);
        }

        return value > MaxRetryAfter ? MaxRetryAfter : value;
    }

    /// <summary>Reads a request body of at most <paramref name="max"/> bytes; null when it is longer (answer 413).</summary>
    public static async Task<byte[]?> ReadCappedAsync(Stream body, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The error a platform put in its JSON answer (<c>error</c>, <c>message</c>), shortened.</summary>
    public static string ErrorText(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        foreach (var key in new[] { "error", "message", "reason" })
        {
            if (json[key] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s))
            {
                return s.Length > 200 ? s[..200] + "…" : s;
            }
        }

        return string.Empty;
    }

    /// <summary>A string property, or null when missing or not a string.</summary>
    public static string? Str(this JsonNode? node, string key) =>
        node is JsonObject o && o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
