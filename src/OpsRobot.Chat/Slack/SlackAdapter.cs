using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Rendering;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;

namespace OpsRobot.Chat.Slack;

/// <summary>
/// The Slack adapter: Socket Mode for events (no public address needed) and the Web API for posting.
/// <list type="bullet">
/// <item>Each connection asks <c>apps.connections.open</c> (app token) for a fresh WebSocket address, waits for
/// <c>hello</c>, acknowledges every envelope at once by its <c>envelope_id</c>, and reconnects when Slack sends
/// <c>disconnect</c> (<c>refresh_requested</c>, <c>warning</c>…).</item>
/// <item><c>message</c> and <c>app_mention</c> events become lines for the robot, once each (Slack retries
/// unacknowledged envelopes, and a mention arrives as both); the sender is the user's immutable id.</item>
/// <item>A Block Kit button press (<c>block_actions</c>) is the command its value holds, said by the user who
/// pressed it, in the message's channel and thread.</item>
/// <item>Replies go through <c>chat.postMessage</c> with <c>thread_ts</c>, paced, waiting out 429's
/// <c>Retry-After</c>.</item>
/// <item>Direct messages (one-time codes) open the user's conversation with <c>conversations.open</c>
/// (<c>users</c>; scope <c>im:write</c>), remember its id, and post there in the queue's turn.</item>
/// </list>
/// </summary>
public sealed partial class SlackAdapter : ChatAdapter<SlackOutgoingPost>, IDisposable
{
    /// <summary>The platform name in <see cref="IncomingMessage.Platform"/>.</summary>
    public const string PlatformName = "slack";

    private readonly SlackOptions _options;
    private readonly RobotOptions _robot;
    private readonly ILogger<SlackAdapter> _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, string> _userNames = new(StringComparer.Ordinal);
    private volatile string? _botUserId;
    private volatile string? _botName;
    private volatile string? _team;

    public SlackAdapter(IOptions<SlackOptions> options, IOptions<RobotOptions> robot, IServiceScopeFactory scopes, TimeProvider time, ILogger<SlackAdapter> logger)
        : base(PlatformName, options?.Value!, scopes, time, logger)
    {
        ArgumentNullException.ThrowIfNull(robot);
        _options = options!.Value;
        _robot = robot.Value;
        _logger = logger;
        _http = ChatHttp.CreateClient(_options.RequestTimeout);
    }

    /// <summary>The bot's user id, learned from <c>auth.test</c> (null before the first connection).</summary>
    public string? BotUserId => _botUserId;

    public override string Describe() =>
        (_botUserId is null ? $"Slack via {_options.ApiBaseUrl.Host}" : $"Slack workspace {_team} as @{_botName} ({_botUserId})")
        + (string.IsNullOrEmpty(_options.AppToken) ? ", events over HTTP" : string.Empty);

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    protected override bool IsValidRoomId(string roomId) => SlackIds.IsConversationId(roomId);

    protected override IEnumerable<SlackOutgoingPost> Render(ChatRoom room, OutgoingMessage message)
    {
        var thread = message.ThreadId is { } t && SlackIds.IsTimestamp(t) ? t : null;
        return SlackRenderer.Render(message).Select(p => new SlackOutgoingPost(p.Text, p.Blocks, thread));
    }

    protected override async Task PostAsync(ChatRoom room, SlackOutgoingPost post, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["channel"] = room.Id,
            ["text"] = post.Text,
            ["blocks"] = post.Blocks.DeepClone(),
            ["unfurl_links"] = false,
            ["unfurl_media"] = false,
        };
        if (post.ThreadTs is not null)
        {
            body["thread_ts"] = post.ThreadTs;
        }

        await CallAsync("chat.postMessage", _options.BotToken!, body, cancellationToken).ConfigureAwait(false);
    }

    protected override string? CannotOpenDirect(ChatUser user) =>
        !SlackIds.IsUserId(user.Id) ? "the id is not a Slack user id (U… or W…)" : user.Id == _botUserId ? "that is the robot itself" : null;

    /// <summary><c>conversations.open</c> with <c>users</c> (scope <c>im:write</c>): the direct conversation's id (D…).</summary>
    protected override async Task<string> OpenDirectAsync(ChatUser user, CancellationToken cancellationToken)
    {
        var answer = await CallAsync("conversations.open", _options.BotToken!, new JsonObject { ["users"] = user.Id }, cancellationToken).ConfigureAwait(false);
        return answer["channel"].Str("id") ?? throw new ChatApiException("Slack's conversations.open answer named no channel.", transient: false);
    }

    protected override async Task RunSessionAsync(Action ready, CancellationToken cancellationToken)
    {
        // Who we are, so our own messages are ignored and our mention recognised.
        var auth = await CallAsync("auth.test", _options.BotToken!, null, cancellationToken).ConfigureAwait(false);
        _botUserId = auth.Str("user_id") ?? throw new ChatApiException("auth.test did not name the bot's user id.", transient: true);
        _botName = auth.Str("user") ?? _botUserId;
        _team = auth.Str("team") ?? auth.Str("team_id") ?? "?";

        if (string.IsNullOrEmpty(_options.AppToken))
        {
            // HTTP deliveries only: the "connection" is the bot token; check it now and then so status tells the truth.
            ready();
            while (true)
            {
                await Task.Delay(TimeSpan.FromMinutes(5), Time, cancellationToken).ConfigureAwait(false);
                await CallAsync("auth.test", _options.BotToken!, null, cancellationToken).ConfigureAwait(false);
            }
        }

        var open = await CallAsync("apps.connections.open", _options.AppToken, null, cancellationToken).ConfigureAwait(false);
        var url = open.Str("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var socketUrl) || socketUrl.Scheme is not ("wss" or "ws"))
        {
            throw new ChatApiException("apps.connections.open did not return a WebSocket address.", transient: true);
        }

        LogConnecting(_logger, socketUrl.Host);
        await using var socket = await JsonWebSocket.ConnectAsync(socketUrl, null, _options.ConnectTimeout, _options.MaxEventBytes, cancellationToken).ConfigureAwait(false);
        using var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        helloTimeout.CancelAfter(_options.ConnectTimeout);
        var greeted = false;
        while (true)
        {
            JsonObject? frame;
            try
            {
                frame = await socket.ReceiveAsync(OnMalformed, greeted ? cancellationToken : helloTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!greeted && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Slack did not say hello within {_options.ConnectTimeout.TotalSeconds:0} s.", ex);
            }

            if (frame is null)
            {
                throw new IOException("Slack closed the Socket Mode connection.");
            }

            // Acknowledge first: Slack wants the ack within three seconds and redelivers what it does not get.
            if (frame.Str("envelope_id") is { Length: > 0 and <= 200 } envelopeId)
            {
                await socket.SendAsync(new JsonObject { ["envelope_id"] = envelopeId }, cancellationToken).ConfigureAwait(false);
            }

            switch (frame.Str("type"))
            {
                case "hello":
                    greeted = true;
                    ready();
                    break;
                case "disconnect":
                    var reason = frame.Str("reason") ?? "unknown";
                    LogDisconnectRequested(_logger, reason);
                    if (reason == "link_disabled")
                    {
                        throw new ChatApiException("Slack disabled Socket Mode for this app (link_disabled): turn Socket Mode on in the app's settings.", transient: false);
                    }

                    return;
                case "events_api":
                    OnEvent(frame["payload"]?["event"] as JsonObject);
                    break;
                case "interactive":
                    OnInteraction(frame["payload"] as JsonObject);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// A delivery from Slack over HTTP (<see cref="SlackOptions.EventsPath"/>): the Events API's JSON
    /// (<c>url_verification</c>, <c>event_callback</c>) or an interaction (form field <c>payload</c>). The
    /// signature is checked first (v0, five-minute window); an unsigned, stale or altered request gets 401 and
    /// changes nothing. Returns the status, content type and body to answer.
    /// </summary>
    public (int Status, string ContentType, string Body) HandleHttp(string? timestamp, string? signature, ReadOnlySpan<byte> body, string? contentType)
    {
        if (string.IsNullOrEmpty(_options.SigningSecret))
        {
            return (404, "text/plain", "Slack HTTP deliveries are not enabled (no SigningSecret).");
        }

        var verdict = new SlackRequestVerifier(_options.SigningSecret, Time).Verify(timestamp, signature, body);
        if (verdict != SlackSignatureVerdict.Valid)
        {
            LogBadSignature(_logger, verdict);
            return (401, "text/plain", verdict == SlackSignatureVerdict.Stale ? "The request is too old or too new." : "The request signature is missing or wrong.");
        }

        var text = System.Text.Encoding.UTF8.GetString(body);
        JsonObject? json;
        try
        {
            if (contentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
            {
                var payload = text.Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == "payload");
                json = payload is null ? null : JsonNode.Parse(Uri.UnescapeDataString(payload[1].Replace('+', ' ')), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
                OnInteraction(json);
                return json is null ? (400, "text/plain", "The form has no JSON payload.") : (200, "text/plain", string.Empty);
            }

            json = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            json = null;
        }

        switch (json.Str("type"))
        {
            case "url_verification" when json.Str("challenge") is { Length: <= 200 } challenge:
                return (200, "text/plain", challenge);
            case "event_callback":
                OnEvent(json!["event"] as JsonObject);
                return (200, "text/plain", string.Empty);
            case null:
                return (400, "text/plain", "The body is not the JSON Slack sends.");
            default:
                return (200, "text/plain", string.Empty);
        }
    }

    /// <summary>A <c>message</c> or <c>app_mention</c> event.</summary>
    private void OnEvent(JsonObject? e)
    {
        var type = e.Str("type");
        if (e is null || type is not ("message" or "app_mention"))
        {
            return;
        }

        // Edits, joins, bot posts and our own lines are not commands.
        var user = e.Str("user");
        var channel = e.Str("channel");
        var ts = e.Str("ts");
        var text = e.Str("text");
        if (e.Str("subtype") is not null || e["bot_id"] is not null || user is null || user == _botUserId
            || channel is null || !SlackIds.IsConversationId(channel) || !SlackIds.IsUserId(user) || ts is null || text is null)
        {
            return;
        }

        var direct = e.Str("channel_type") == "im" || channel.StartsWith('D');
        var room = new ChatRoom(channel, channel, direct);
        var plain = SlackText.ToPlain(text, _botUserId, _robot.RobotName);
        Dispatch(room, user, plain, e.Str("thread_ts"), $"{channel}:{ts}");
    }

    /// <summary>A <c>block_actions</c> interaction: one of our buttons, pressed.</summary>
    private void OnInteraction(JsonObject? payload)
    {
        if (payload.Str("type") != "block_actions" || payload!["actions"] is not JsonArray actions)
        {
            return;
        }

        var user = payload["user"].Str("id");
        var channel = payload["channel"].Str("id") ?? payload["container"].Str("channel_id");
        if (user is null || channel is null || !SlackIds.IsUserId(user) || !SlackIds.IsConversationId(channel))
        {
            return;
        }

        var thread = payload["message"].Str("thread_ts") ?? payload["container"].Str("thread_ts");
        foreach (var action in actions.OfType<JsonObject>())
        {
            var id = action.Str("action_id");
            var command = action.Str("value");
            if (id is null || !id.StartsWith(SlackRenderer.ActionIdPrefix, StringComparison.Ordinal) || string.IsNullOrWhiteSpace(command))
            {
                continue;
            }

            LogButton(_logger, user, channel);
            var room = new ChatRoom(channel, channel, channel.StartsWith('D'));
            Dispatch(room, user, command, thread, $"action:{user}:{action.Str("action_ts") ?? payload.Str("trigger_id") ?? id}");
        }
    }

    private void Dispatch(ChatRoom room, string userId, string text, string? thread, string messageId) =>
        Dispatch(
            new IncomingMessage(Platform, room, new ChatUser(userId, userId), text, Time.GetUtcNow()) { ThreadId = thread },
            messageId,
            async m => m with { Sender = new ChatUser(userId, await UserNameAsync(userId).ConfigureAwait(false)) });

    /// <summary>The user's name from <c>users.info</c>, cached; the id when the bot may not read users (no <c>users:read</c>).</summary>
    private async Task<string> UserNameAsync(string userId)
    {
        if (_userNames.TryGetValue(userId, out var known))
        {
            return known;
        }

        // A name is a nicety: the line waits for it at most a few seconds.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
        cts.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var info = await CallAsync("users.info?user=" + Uri.EscapeDataString(userId), _options.BotToken!, null, cts.Token).ConfigureAwait(false);
            var name = info["user"].Str("name") is { Length: > 0 and <= 80 } found ? found : userId;
            if (_userNames.Count < 10_000)
            {
                _userNames[userId] = name;
            }

            return name;
        }
        catch (OperationCanceledException) when (!Stopping.IsCancellationRequested)
        {
            LogUserLookup(_logger, userId, "no answer within 5 s");
            return userId;
        }
        catch (ChatApiException ex)
        {
            // Not cached: a rate limit or an outage now should not name the person by id for ever.
            LogUserLookup(_logger, userId, ex.Message);
            return userId;
        }
    }

    /// <summary>A Web API call: POST with the token as a bearer; <c>"ok": false</c> becomes an exception that says whether retrying can help.</summary>
    private async Task<JsonObject> CallAsync(string method, string token, JsonObject? body, CancellationToken cancellationToken)
    {
        using var request = ChatHttp.Json(body is null && method.Contains('?', StringComparison.Ordinal) ? HttpMethod.Get : HttpMethod.Post, new Uri(_options.ApiBaseUrl, method), body);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var answer = await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
        if (answer["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk)
        {
            return answer;
        }

        var error = ChatHttp.ErrorText(answer);
        var name = method.Split('?')[0];
        if (error == "ratelimited")
        {
            throw new ChatRateLimitedException($"{name} was rate limited.", ChatHttp.DefaultRetryAfter);
        }

        var transient = error is "fatal_error" or "internal_error" or "service_unavailable" or "request_timeout" or "team_added_to_org";
        throw new ChatApiException($"Slack refused {name}: {(error.Length > 0 ? error : "no reason given")}.", transient);
    }

    [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Slack: opening Socket Mode connection to {Host}")]
    private static partial void LogConnecting(ILogger logger, string host);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Slack: the server asked to reconnect ({Reason})")]
    private static partial void LogDisconnectRequested(ILogger logger, string reason);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Slack: button pressed by {User} in {Channel}")]
    private static partial void LogButton(ILogger logger, string user, string channel);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Warning, Message = "Slack: refused an HTTP delivery: signature {Verdict}")]
    private static partial void LogBadSignature(ILogger logger, SlackSignatureVerdict verdict);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Debug, Message = "Slack: could not look up user {User}: {Reason}")]
    private static partial void LogUserLookup(ILogger logger, string user, string reason);
}

/// <summary>One Slack post as queued: the rendered message and the thread (<c>thread_ts</c>) it answers in.</summary>
public sealed record SlackOutgoingPost(string Text, JsonArray Blocks, string? ThreadTs);

/// <summary>The shapes of Slack's ids, checked before anything from outside is used as one.</summary>
internal static class SlackIds
{
    /// <summary>A channel (C…), private channel or group (G…) or direct conversation (D…).</summary>
    public static bool IsConversationId(string id) => id.Length is >= 2 and <= 32 && id[0] is 'C' or 'G' or 'D' && id.All(char.IsAsciiLetterOrDigit);

    /// <summary>A user (U…) or enterprise user (W…).</summary>
    public static bool IsUserId(string id) => id.Length is >= 2 and <= 32 && id[0] is 'U' or 'W' && id.All(char.IsAsciiLetterOrDigit);

    /// <summary>A message timestamp (<c>1355517523.000005</c>), which is also how threads are named.</summary>
    public static bool IsTimestamp(string ts) => ts.Length is >= 3 and <= 32 && ts.All(c => char.IsAsciiDigit(c) || c == '.');
}
