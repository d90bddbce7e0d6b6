using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Rendering;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Mattermost;

/// <summary>
/// The Mattermost adapter: the WebSocket API for events and REST API v4 for posting.
/// <list type="bullet">
/// <item>Each connection learns the bot from <c>GET /api/v4/users/me</c>, opens <c>/api/v4/websocket</c>,
/// authenticates with the <c>authentication_challenge</c> action (answered by <c>seq_reply</c>), and on reconnect
/// asks to resume with <c>connection_id</c> and <c>sequence_number</c> so events sent meanwhile are replayed.</item>
/// <item><c>posted</c> events become lines for the robot, once per post id; the sender is the user's immutable id;
/// the thread is the post's <c>root_id</c>.</item>
/// <item>Replies go through <c>POST /api/v4/posts</c> with <c>root_id</c>, paced, waiting out 429s, with a
/// <c>pending_post_id</c> so the server drops a retried post it already has.</item>
/// <item>Direct messages (one-time codes) open the channel with <c>POST /api/v4/channels/direct</c> (the bot's
/// and the user's ids), remember its id, and post there in the queue's turn.</item>
/// <item>Buttons are interactive message attachments whose integration calls OpsRobot back
/// (<see cref="HandleAction"/>); their context is signed, so a press is proven to be one of ours.</item>
/// </list>
/// </summary>
public sealed partial class MattermostAdapter : ChatAdapter<MattermostOutgoingPost>, IDisposable
{
    /// <summary>The platform name in <see cref="IncomingMessage.Platform"/>.</summary>
    public const string PlatformName = "mattermost";

    private readonly MattermostOptions _options;
    private readonly ILogger<MattermostAdapter> _logger;
    private readonly HttpClient _http;
    private readonly byte[] _actionKey;
    private volatile string? _botId;
    private volatile string? _botName;
    private string? _connectionId;
    private long _nextSequence;
    private long _postCounter;

    public MattermostAdapter(IOptions<MattermostOptions> options, IServiceScopeFactory scopes, TimeProvider time, ILogger<MattermostAdapter> logger)
        : base(PlatformName, options?.Value!, scopes, time, logger)
    {
        _options = options!.Value;
        _logger = logger;
        _http = ChatHttp.CreateClient(_options.RequestTimeout);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        _actionKey = string.IsNullOrEmpty(_options.ActionSecret) ? RandomNumberGenerator.GetBytes(32) : Encoding.UTF8.GetBytes(_options.ActionSecret);
    }

    /// <summary>The bot's user id, from <c>users/me</c> (null before the first connection).</summary>
    public string? BotUserId => _botId;

    public override string Describe() =>
        $"Mattermost {_options.ServerUrl?.Host} as {(_botName is null ? "(not signed in yet)" : "@" + _botName)}{(_options.ActionUrl is null ? ", buttons as typed commands" : string.Empty)}";

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    protected override bool IsValidRoomId(string roomId) => MattermostIds.IsId(roomId);

    protected override IEnumerable<MattermostOutgoingPost> Render(ChatRoom room, OutgoingMessage message)
    {
        var root = message.ThreadId is { } t && MattermostIds.IsId(t) ? t : string.Empty;
        Func<ChatButton, JsonObject>? integration = _options.ActionUrl is null ? null : b => new JsonObject
        {
            ["url"] = _options.ActionUrl.AbsoluteUri,
            ["context"] = new JsonObject
            {
                ["command"] = b.Command,
                ["root_id"] = root,
                ["signature"] = SignAction(room.Id, root, b.Command),
            },
        };
        var stamp = Time.GetUtcNow().ToUnixTimeMilliseconds();
        return MattermostRenderer.Render(message, _options.MaxPostLength, integration)
            .Select(p => new MattermostOutgoingPost(p.Message, p.Attachments, root, $"{stamp}:{Interlocked.Increment(ref _postCounter)}"))
            .ToList();
    }

    protected override async Task PostAsync(ChatRoom room, MattermostOutgoingPost post, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["channel_id"] = room.Id,
            ["message"] = post.Message,
            ["root_id"] = post.RootId,
            ["pending_post_id"] = $"{_botId}:{post.Nonce}",
        };
        if (post.Attachments is not null)
        {
            body["props"] = new JsonObject { ["attachments"] = post.Attachments.DeepClone() };
        }

        using var request = ChatHttp.Json(HttpMethod.Post, Api("posts"), body);
        await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
    }

    protected override string? CannotOpenDirect(ChatUser user) =>
        !MattermostIds.IsId(user.Id) ? "the id is not a Mattermost user id" : user.Id == _botId ? "that is the robot itself" : null;

    /// <summary><c>POST /api/v4/channels/direct</c> with the bot's and the user's ids: the direct channel's id.</summary>
    protected override async Task<string> OpenDirectAsync(ChatUser user, CancellationToken cancellationToken)
    {
        var bot = _botId ?? throw new ChatApiException("Not signed in to Mattermost yet.", transient: true);
        using var request = ChatHttp.Json(HttpMethod.Post, Api("channels/direct"), new JsonArray(bot, user.Id));
        var channel = await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
        return channel.Str("id") ?? throw new ChatApiException("Mattermost's channels/direct answer named no channel.", transient: false);
    }

    protected override async Task RunSessionAsync(Action ready, CancellationToken cancellationToken)
    {
        using (var request = ChatHttp.Json(HttpMethod.Get, Api("users/me"), null))
        {
            var me = await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
            _botId = me.Str("id") is { } id && MattermostIds.IsId(id) ? id : throw new ChatApiException("users/me did not name the bot's id.", transient: true);
            _botName = me.Str("username") ?? _botId;
        }

        var builder = new UriBuilder(Api("websocket")) { Scheme = _options.ServerUrl!.Scheme == "https" ? "wss" : "ws" };
        if (_connectionId is not null)
        {
            // Resume: the server replays what it sent after this sequence number, if it still has it.
            builder.Query = $"connection_id={Uri.EscapeDataString(_connectionId)}&sequence_number={Interlocked.Read(ref _nextSequence).ToString(CultureInfo.InvariantCulture)}";
        }

        LogConnecting(_logger, builder.Host, _connectionId is not null);
        await using var socket = await JsonWebSocket.ConnectAsync(builder.Uri, null, _options.ConnectTimeout, _options.MaxEventBytes, cancellationToken).ConfigureAwait(false);
        var seq = 1L;
        await socket.SendAsync(new JsonObject { ["seq"] = seq, ["action"] = "authentication_challenge", ["data"] = new JsonObject { ["token"] = _options.Token } }, cancellationToken).ConfigureAwait(false);
        using var authTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        authTimeout.CancelAfter(_options.ConnectTimeout);
        var authenticated = false;
        while (true)
        {
            JsonObject? frame;
            try
            {
                frame = await socket.ReceiveAsync(OnMalformed, authenticated ? cancellationToken : authTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!authenticated && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Mattermost did not answer the authentication challenge within {_options.ConnectTimeout.TotalSeconds:0} s.", ex);
            }

            if (frame is null)
            {
                throw new IOException("Mattermost closed the WebSocket.");
            }

            if (frame["seq_reply"] is JsonValue reply && reply.TryGetValue<long>(out var replyTo) && replyTo == 1)
            {
                if (frame.Str("status") != "OK")
                {
                    throw new ChatApiException($"Mattermost refused the WebSocket authentication: {frame["error"]?["message"]?.ToString() ?? "no reason given"}.", transient: false);
                }

                authenticated = true;
                ready();
                continue;
            }

            if (frame.Str("event") is not { } name)
            {
                continue;
            }

            if (frame["seq"] is JsonValue s && s.TryGetValue<long>(out var eventSeq))
            {
                Interlocked.Exchange(ref _nextSequence, eventSeq + 1);
            }

            switch (name)
            {
                case "hello":
                    var connectionId = frame["data"].Str("connection_id");
                    if (connectionId != _connectionId)
                    {
                        // A new connection on the server's side: its sequence numbers start again.
                        _connectionId = connectionId;
                        Interlocked.Exchange(ref _nextSequence, (frame["seq"] as JsonValue)?.GetValue<long>() + 1 ?? 1);
                    }

                    break;
                case "posted":
                    OnPosted(frame["data"] as JsonObject);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// A button press delivered by Mattermost to <see cref="MattermostOptions.ActionPath"/>: the JSON body Mattermost
    /// posts (<c>user_id</c>, <c>user_name</c>, <c>channel_id</c>, <c>post_id</c>, <c>context</c>). Returns the HTTP
    /// status and JSON to answer. A press whose context signature does not match (not one of our buttons, or copied to
    /// another channel or thread) is refused with 403 and changes nothing.
    /// </summary>
    public (int Status, string Json) HandleAction(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }

        if (request is null)
        {
            return (400, """{"error":"The body must be the JSON object Mattermost sends for an interactive button."}""");
        }

        var user = request.Str("user_id");
        var channel = request.Str("channel_id");
        var context = request["context"] as JsonObject;
        var command = context.Str("command");
        var root = context.Str("root_id") ?? string.Empty;
        var signature = context.Str("signature");
        if (user is null || channel is null || !MattermostIds.IsId(user) || !MattermostIds.IsId(channel) || string.IsNullOrWhiteSpace(command) || signature is null
            || (root.Length > 0 && !MattermostIds.IsId(root)))
        {
            return (400, """{"error":"The button press is missing its user, channel or command."}""");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(SignAction(channel, root, command)), Encoding.ASCII.GetBytes(signature)))
        {
            LogBadAction(_logger, user, channel);
            return (403, """{"error":"This button was not made by this OpsRobot for this channel."}""");
        }

        var name = request.Str("user_name") is { Length: > 0 } userName ? userName : user;
        LogButton(_logger, user, channel);
        var direct = request.Str("channel_name")?.Contains("__", StringComparison.Ordinal) == true;
        var id = $"action:{user}:{request.Str("trigger_id") ?? request.Str("post_id") ?? Guid.NewGuid().ToString()}";
        Dispatch(new IncomingMessage(Platform, new ChatRoom(channel, request.Str("channel_name") ?? channel, direct), new ChatUser(user, name), command, Time.GetUtcNow())
        {
            ThreadId = root.Length > 0 ? root : null,
        }, id);
        return (200, "{}");
    }

    private void OnPosted(JsonObject? data)
    {
        if (data.Str("post") is not { } postJson)
        {
            return;
        }

        JsonObject? post;
        try
        {
            post = JsonNode.Parse(postJson, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }) as JsonObject;
        }
        catch (JsonException)
        {
            OnMalformed(postJson.Length);
            return;
        }

        var id = post.Str("id");
        var user = post.Str("user_id");
        var channel = post.Str("channel_id");
        var text = post.Str("message");

        // System messages (joins, header changes) have a type; our own posts come back to us too.
        if (post is null || id is null || user is null || channel is null || text is null || !string.IsNullOrEmpty(post.Str("type"))
            || user == _botId || !MattermostIds.IsId(user) || !MattermostIds.IsId(channel))
        {
            return;
        }

        var direct = data.Str("channel_type") == "D";
        var roomName = data.Str("channel_display_name") is { Length: > 0 } display ? display : data.Str("channel_name") ?? channel;
        var sender = (data.Str("sender_name") ?? user).TrimStart('@');
        var root = post.Str("root_id");
        Dispatch(new IncomingMessage(Platform, new ChatRoom(channel, roomName, direct), new ChatUser(user, sender), text, Time.GetUtcNow())
        {
            ThreadId = string.IsNullOrEmpty(root) ? null : root,
        }, id);
    }

    private string SignAction(string channel, string root, string command) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_actionKey, Encoding.UTF8.GetBytes($"{channel}\n{root}\n{command}")));

    private Uri Api(string path) => new(_options.ServerUrl!, "api/v4/" + path);

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Mattermost: opening the WebSocket to {Host} (resuming {Resuming})")]
    private static partial void LogConnecting(ILogger logger, string host, bool resuming);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Mattermost: button pressed by {User} in {Channel}")]
    private static partial void LogButton(ILogger logger, string user, string channel);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning, Message = "Mattermost: refused a button press by {User} in {Channel}: its signature does not match")]
    private static partial void LogBadAction(ILogger logger, string user, string channel);
}

/// <summary>One Mattermost post as queued: text, attachments, the thread root, and a nonce for <c>pending_post_id</c>.</summary>
public sealed record MattermostOutgoingPost(string Message, JsonArray? Attachments, string RootId, string Nonce);

/// <summary>Mattermost's ids: 26 lowercase letters and digits.</summary>
internal static class MattermostIds
{
    public static bool IsId(string id) => id.Length == 26 && id.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c));
}
