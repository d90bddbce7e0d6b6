using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Rendering;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.RocketChat;

/// <summary>
/// The Rocket.Chat adapter: the REST API for signing in and posting, the realtime API (DDP over WebSocket) for
/// messages.
/// <list type="bullet">
/// <item>Each connection signs in (a personal access token's <c>X-User-Id</c>/<c>X-Auth-Token</c>, or
/// <c>POST /api/v1/login</c>), learns the bot from <c>GET /api/v1/me</c>, then speaks DDP: <c>connect</c>,
/// <c>login</c> with the resume token, <c>sub</c> to <c>stream-room-messages</c> / <c>__my_messages__</c>, and
/// answers every <c>ping</c> with a <c>pong</c>.</item>
/// <item>Messages become lines for the robot once per message id (edits and thread-count updates re-send a
/// message; they are not new commands); the sender is the user's immutable id; the thread is <c>tmid</c>.</item>
/// <item>Replies go through <c>POST /api/v1/chat.sendMessage</c> with <c>tmid</c> and a message <c>_id</c> chosen
/// here, so a retried post cannot appear twice; paced, waiting out 429s.</item>
/// <item>Buttons are attachment actions that post their command into the room as the pressing user.</item>
/// <item>Direct messages (one-time codes) open the room with <c>POST /api/v1/im.create</c> by the username last
/// seen on that user id's messages (a user never seen cannot be reached), remember its id, and send there in the
/// queue's turn.</item>
/// </list>
/// </summary>
public sealed partial class RocketChatAdapter : ChatAdapter<RocketChatOutgoingPost>, IDisposable
{
    /// <summary>The platform name in <see cref="IncomingMessage.Platform"/>.</summary>
    public const string PlatformName = "rocketchat";

    private const string IdAlphabet = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

    private readonly RocketChatOptions _options;
    private readonly ILogger<RocketChatAdapter> _logger;
    private readonly HttpClient _http;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SeenRoom> _rooms = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _usernames = new(StringComparer.Ordinal);
    private volatile Credentials? _credentials;
    private volatile string? _botName;

    public RocketChatAdapter(IOptions<RocketChatOptions> options, IServiceScopeFactory scopes, TimeProvider time, ILogger<RocketChatAdapter> logger)
        : base(PlatformName, options?.Value!, scopes, time, logger)
    {
        _options = options!.Value;
        _logger = logger;
        _http = ChatHttp.CreateClient(_options.RequestTimeout);
    }

    /// <summary>The bot's user id (null before the first sign-in).</summary>
    public string? BotUserId => _credentials?.UserId;

    public override string Describe() =>
        $"Rocket.Chat {_options.ServerUrl?.Host} as {(_botName is null ? "(not signed in yet)" : "@" + _botName)} ({(_options.UsesAccessToken ? "access token" : "password")})";

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    protected override bool IsValidRoomId(string roomId) => RocketChatIds.IsId(roomId);

    protected override IEnumerable<RocketChatOutgoingPost> Render(ChatRoom room, OutgoingMessage message)
    {
        var thread = message.ThreadId is { } t && RocketChatIds.IsId(t) ? t : null;
        return RocketChatRenderer.Render(message, _options.MaxMessageLength)
            .Select(p => new RocketChatOutgoingPost(NewMessageId(), p.Text, p.Attachments, thread))
            .ToList();
    }

    protected override async Task PostAsync(ChatRoom room, RocketChatOutgoingPost post, CancellationToken cancellationToken)
    {
        var message = new JsonObject { ["_id"] = post.Id, ["rid"] = room.Id, ["msg"] = post.Text };
        if (post.ThreadId is not null)
        {
            message["tmid"] = post.ThreadId;
        }

        if (post.Attachments is not null)
        {
            message["attachments"] = post.Attachments.DeepClone();
        }

        await CallAsync(HttpMethod.Post, "chat.sendMessage", new JsonObject { ["message"] = message }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rocket.Chat opens direct rooms by username: only a user whose username was seen on a message can be reached.</summary>
    protected override string? CannotOpenDirect(ChatUser user) =>
        !RocketChatIds.IsId(user.Id) ? "the id is not a Rocket.Chat user id"
        : user.Id == _credentials?.UserId ? "that is the robot itself"
        : !_usernames.ContainsKey(user.Id) ? "their username is not known yet (Rocket.Chat opens direct rooms by username, learned from their messages)"
        : null;

    /// <summary><c>POST /api/v1/im.create</c> with the username last seen for this user id: the direct room's id.</summary>
    protected override async Task<string> OpenDirectAsync(ChatUser user, CancellationToken cancellationToken)
    {
        var username = _usernames.GetValueOrDefault(user.Id) ?? throw new ChatApiException("The user's username is not known.", transient: false);
        var answer = await CallAsync(HttpMethod.Post, "im.create", new JsonObject { ["username"] = username }, cancellationToken).ConfigureAwait(false);
        var room = answer["room"];
        return room.Str("_id") ?? room.Str("rid") ?? throw new ChatApiException("Rocket.Chat's im.create answer named no room.", transient: false);
    }

    protected override async Task RunSessionAsync(Action ready, CancellationToken cancellationToken)
    {
        await SignInAsync(cancellationToken).ConfigureAwait(false);
        var credentials = _credentials!;
        var builder = new UriBuilder(new Uri(_options.ServerUrl!, "websocket")) { Scheme = _options.ServerUrl!.Scheme == "https" ? "wss" : "ws" };
        LogConnecting(_logger, builder.Host);
        await using var socket = await JsonWebSocket.ConnectAsync(builder.Uri, null, _options.ConnectTimeout, _options.MaxEventBytes, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(new JsonObject { ["msg"] = "connect", ["version"] = "1", ["support"] = new JsonArray("1") }, cancellationToken).ConfigureAwait(false);

        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshake.CancelAfter(_options.ConnectTimeout);
        var subscribed = false;
        while (true)
        {
            JsonObject? frame;
            try
            {
                frame = await socket.ReceiveAsync(OnMalformed, subscribed ? cancellationToken : handshake.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!subscribed && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Rocket.Chat did not complete the DDP handshake within {_options.ConnectTimeout.TotalSeconds:0} s.", ex);
            }

            if (frame is null)
            {
                throw new IOException("Rocket.Chat closed the WebSocket.");
            }

            switch (frame.Str("msg"))
            {
                case "ping":
                    var pong = new JsonObject { ["msg"] = "pong" };
                    if (frame.Str("id") is { } pingId)
                    {
                        pong["id"] = pingId;
                    }

                    await socket.SendAsync(pong, cancellationToken).ConfigureAwait(false);
                    break;
                case "connected":
                    await socket.SendAsync(new JsonObject
                    {
                        ["msg"] = "method",
                        ["method"] = "login",
                        ["id"] = "login",
                        ["params"] = new JsonArray(new JsonObject { ["resume"] = credentials.Token }),
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                case "failed":
                    throw new ChatApiException($"Rocket.Chat refused DDP version 1 (it offers {frame["version"]?.ToString() ?? "none"}).", transient: false);
                case "result" when frame.Str("id") == "login":
                    if (frame["error"] is { } loginError)
                    {
                        // The token expired or was revoked: sign in again on the next attempt.
                        _credentials = null;
                        throw new ChatApiException($"Rocket.Chat refused the realtime login: {loginError["reason"]?.ToString() ?? loginError["error"]?.ToString() ?? "no reason given"}.", transient: false);
                    }

                    await socket.SendAsync(new JsonObject
                    {
                        ["msg"] = "sub",
                        ["id"] = "messages",
                        ["name"] = "stream-room-messages",
                        ["params"] = new JsonArray("__my_messages__", false),
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                case "ready" when frame["subs"] is JsonArray subs && subs.Any(s => s?.ToString() == "messages"):
                    subscribed = true;
                    ready();
                    _ = CatchUpAsync(cancellationToken);
                    break;
                case "nosub" when frame.Str("id") == "messages":
                    throw new ChatApiException($"Rocket.Chat refused the message subscription: {frame["error"]?["reason"]?.ToString() ?? "no reason given"}.", transient: false);
                case "changed" when frame.Str("collection") == "stream-room-messages":
                    OnMessage(frame["fields"] as JsonObject);
                    break;
                default:
                    break;
            }
        }
    }

    private void OnMessage(JsonObject? fields)
    {
        if (fields?["args"] is not JsonArray args || args.Count == 0 || args[0] is not JsonObject m)
        {
            return;
        }

        var meta = args.Count > 1 ? args[1] as JsonObject : null;
        OnMessage(m, meta.Str("roomType") == "d", meta.Str("roomName"));
    }

    private void OnMessage(JsonObject m, bool direct, string? roomName)
    {

        var id = m.Str("_id");
        var room = m.Str("rid");
        var text = m.Str("msg");
        var user = m["u"].Str("_id");

        // System messages (t), edits (editedAt) and our own posts are not commands.
        if (id is null || room is null || text is null || user is null || m["t"] is not null || m["editedAt"] is not null
            || user == _credentials?.UserId || !RocketChatIds.IsId(room) || !RocketChatIds.IsId(user))
        {
            return;
        }

        var chatRoom = new ChatRoom(room, roomName ?? room, direct);
        var ts = m["ts"]?["$date"] is JsonValue date && date.TryGetValue<long>(out var ms) ? ms : Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_rooms.Count < MaxTrackedRooms || _rooms.ContainsKey(room))
        {
            _rooms.AddOrUpdate(room, new SeenRoom(chatRoom, ts), (_, seen) => seen with { LastMessage = Math.Max(seen.LastMessage, ts) });
        }

        var username = m["u"].Str("username");
        if (username is not null && RocketChatIds.IsUsername(username) && (_usernames.Count < MaxKnownUsers || _usernames.ContainsKey(user)))
        {
            // Kept per immutable id, latest wins (a user may be renamed): direct rooms are opened by username.
            _usernames[user] = username;
        }

        var name = username ?? user;
        var thread = m.Str("tmid");
        Dispatch(new IncomingMessage(Platform, chatRoom, new ChatUser(user, name), text, Time.GetUtcNow())
        {
            ThreadId = thread is not null && RocketChatIds.IsId(thread) ? thread : null,
        }, id);
    }

    /// <summary>
    /// After a reconnect, fetches what was said in the rooms the robot knows while it was away
    /// (<c>GET /api/v1/chat.syncMessages</c> since the last message seen there); the realtime stream does not
    /// replay. Messages already handled are recognised by id and not answered twice.
    /// </summary>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        foreach (var seen in _rooms.Values.ToList())
        {
            try
            {
                var since = DateTimeOffset.FromUnixTimeMilliseconds(seen.LastMessage).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                var answer = await CallAsync(HttpMethod.Get, $"chat.syncMessages?roomId={Uri.EscapeDataString(seen.Room.Id)}&lastUpdate={Uri.EscapeDataString(since)}", null, cancellationToken).ConfigureAwait(false);
                if (answer["result"]?["updated"] is not JsonArray updated)
                {
                    continue;
                }

                var missed = updated.OfType<JsonObject>()
                    .Select(m => (Message: m, Ts: m["ts"]?["$date"] is JsonValue d && d.TryGetValue<long>(out var ms) ? ms : 0))
                    .Where(x => x.Ts > seen.LastMessage)
                    .OrderBy(x => x.Ts)
                    .ToList();
                if (missed.Count > 0)
                {
                    LogCatchUp(_logger, missed.Count, seen.Room.Name);
                }

                foreach (var (message, _) in missed)
                {
                    OnMessage(message, seen.Room.IsDirect, seen.Room.Name);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ChatApiException ex)
            {
                LogCatchUpFailed(_logger, seen.Room.Name, ex.Message);
            }
        }
    }

    private async Task SignInAsync(CancellationToken cancellationToken)
    {
        if (_credentials is null)
        {
            if (_options.UsesAccessToken)
            {
                _credentials = new Credentials(_options.UserId!, _options.AuthToken!);
            }
            else
            {
                using var request = ChatHttp.Json(HttpMethod.Post, Api("login"), new JsonObject { ["user"] = _options.Username, ["password"] = _options.Password });
                var login = await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
                var userId = login["data"].Str("userId");
                var token = login["data"].Str("authToken");
                if (userId is null || token is null)
                {
                    throw new ChatApiException("Rocket.Chat's login answer had no userId or authToken.", transient: true);
                }

                _credentials = new Credentials(userId, token);
            }
        }

        try
        {
            var me = await CallAsync(HttpMethod.Get, "me", null, cancellationToken).ConfigureAwait(false);
            _botName = me.Str("username") ?? _credentials.UserId;
        }
        catch (ChatApiException ex) when (!ex.Transient && !_options.UsesAccessToken)
        {
            // A password session that expired: log in afresh next time.
            _credentials = null;
            throw;
        }
    }

    private async Task<JsonObject> CallAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var credentials = _credentials ?? throw new ChatApiException("Not signed in to Rocket.Chat yet.", transient: true);
        using var request = ChatHttp.Json(method, Api(path), body);
        request.Headers.Add("X-User-Id", credentials.UserId);
        request.Headers.Add("X-Auth-Token", credentials.Token);
        var answer = await ChatHttp.SendAsync(_http, request, Time, cancellationToken).ConfigureAwait(false);
        if (answer["success"] is JsonValue ok && ok.TryGetValue<bool>(out var success) && !success)
        {
            throw new ChatApiException($"Rocket.Chat refused {path}: {ChatHttp.ErrorText(answer)}.", transient: false);
        }

        return answer;
    }

    private Uri Api(string path) => new(_options.ServerUrl!, "api/v1/" + path);

    /// <summary>A message id in Meteor's form (17 characters of its alphabet), chosen before sending so a retry is recognisable.</summary>
    private static string NewMessageId() => string.Create(17, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = IdAlphabet[RandomNumberGenerator.GetInt32(IdAlphabet.Length)];
        }
    });

    /// <summary>The most users whose username is remembered for opening direct rooms.</summary>
    private const int MaxKnownUsers = 10_000;

    /// <summary>The most rooms whose last message is remembered for catching up after a reconnect.</summary>
    private const int MaxTrackedRooms = 1000;

    private sealed record Credentials(string UserId, string Token);

    private sealed record SeenRoom(ChatRoom Room, long LastMessage);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Information, Message = "Rocket.Chat: catching up on {Count} message(s) said in {Room} while disconnected")]
    private static partial void LogCatchUp(ILogger logger, int count, string room);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Warning, Message = "Rocket.Chat: could not catch up on {Room}: {Reason}")]
    private static partial void LogCatchUpFailed(ILogger logger, string room, string reason);

    [LoggerMessage(EventId = 3600, Level = LogLevel.Information, Message = "Rocket.Chat: opening the realtime WebSocket to {Host}")]
    private static partial void LogConnecting(ILogger logger, string host);
}

/// <summary>One Rocket.Chat message as queued: its own id (for retries), text, attachments and thread (<c>tmid</c>).</summary>
public sealed record RocketChatOutgoingPost(string Id, string Text, JsonArray? Attachments, string? ThreadId);

/// <summary>Rocket.Chat's ids: letters and digits (17 for most, longer for direct rooms, which join two user ids).</summary>
internal static class RocketChatIds
{
    public static bool IsId(string id) => id.Length is >= 1 and <= 64 && id.All(char.IsAsciiLetterOrDigit);

    /// <summary>A username as Rocket.Chat allows them (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>), up to 120 characters.</summary>
    public static bool IsUsername(string name) => name.Length is >= 1 and <= 120 && name.All(c => char.IsLetterOrDigit(c) || c is '.' or '_' or '-');
}
