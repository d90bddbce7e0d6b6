using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsRobot.Chat.Tests.Support;

namespace OpsRobot.Chat.Tests.RocketChat;

/// <summary>
/// A Rocket.Chat written from its REST and realtime API documentation, on loopback: <c>POST /api/v1/login</c>,
/// <c>GET /api/v1/me</c>, <c>POST /api/v1/im.create</c> (by username; the room id is both user ids joined) and
/// <c>POST /api/v1/chat.sendMessage</c> with <c>X-User-Id</c>/<c>X-Auth-Token</c>,
/// <c>{"success": …}</c> answers, 429 with <c>X-RateLimit-Reset</c> (Unix milliseconds) on demand, message ids
/// unique; and DDP on <c>/websocket</c>: <c>connect</c>/<c>connected</c>, <c>ping</c>/<c>pong</c>, the
/// <c>login</c> method with a resume token, <c>sub</c>/<c>ready</c> on <c>stream-room-messages</c>, and
/// <c>changed</c> frames carrying each message.
/// </summary>
internal sealed class FakeRocketChat : FakeChatServer
{
    public const string BotId = "B0tUser00000000xx";
    public const string BotToken = "pat-secret-token-0123456789abcdef";
    public const string BotPassword = "bot-password-secret";

    private readonly Channel<string> _pongs = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, bool> _messageIds = new();
    private readonly ConcurrentQueue<JsonObject> _history = new();
    private int _ids;

    public Uri ServerUrl => BaseUrl;

    public int Logins;

    /// <summary>While true, the realtime WebSocket is refused (the server is unreachable for the robot).</summary>
    public volatile bool RefuseConnections;

    /// <summary>Calls of chat.syncMessages.</summary>
    public int Syncs;

    /// <summary>The login token the password login hands out (a personal access token is used as is).</summary>
    public string SessionToken { get; } = "session-secret-" + Guid.NewGuid().ToString("N");

    /// <summary>How many of the next im.create calls get 429.</summary>
    public int RateLimitOpenNext;

    /// <summary>The users the server knows, by username (im.create with another username fails).</summary>
    public ConcurrentDictionary<string, string> Users { get; } = new();

    /// <summary>When each im.create call arrived, with the username it named and its HTTP status.</summary>
    public ConcurrentQueue<(DateTimeOffset At, string Username, int Status)> OpenAttempts { get; } = new();

    /// <summary>The direct room between the bot and <paramref name="userId"/>: the two ids, sorted and joined, as Rocket.Chat makes it.</summary>
    public static string DirectRoomWith(string userId) => string.Concat(new[] { BotId, userId }.Order(StringComparer.Ordinal));

    public static Task<FakeRocketChat> StartAsync() => StartAsync(new FakeRocketChat());

    /// <summary>Waits until the robot has subscribed to its messages (Rocket.Chat's "connected").</summary>
    public Task WaitSubscribedAsync() => WaitConnectedAsync();

    /// <summary>A user's message, streamed to the subscription as a <c>changed</c> frame. Returns the message id.</summary>
    public async Task<string> SayAsync(string userId, string userName, string roomId, string text, string? tmid = null, string roomType = "c", Action<JsonObject>? shape = null, string? id = null)
    {
        id ??= "M" + Interlocked.Increment(ref _ids).ToString("D16", CultureInfo.InvariantCulture);
        var message = new JsonObject
        {
            ["_id"] = id,
            ["rid"] = roomId,
            ["msg"] = text,
            ["ts"] = new JsonObject { ["$date"] = 1_700_000_000_000 + _ids },
            ["u"] = new JsonObject { ["_id"] = userId, ["username"] = userName, ["name"] = userName.ToUpperInvariant() },
            ["_updatedAt"] = new JsonObject { ["$date"] = 1_700_000_000_000 + _ids },
            ["urls"] = new JsonArray(),
            ["mentions"] = new JsonArray(),
            ["channels"] = new JsonArray(),
        };
        if (tmid is not null)
        {
            message["tmid"] = tmid;
        }

        shape?.Invoke(message);
        _history.Enqueue(message.DeepClone().AsObject());
        var socket = CurrentOrNull();
        if (socket is null || socket.State != WebSocketState.Open)
        {
            // Nobody subscribed: the message is only in the room's history (what chat.syncMessages returns).
            return id;
        }

        await SendAsync(socket, new JsonObject
        {
            ["msg"] = "changed",
            ["collection"] = "stream-room-messages",
            ["id"] = "id",
            ["fields"] = new JsonObject
            {
                ["eventName"] = "__my_messages__",
                ["args"] = new JsonArray(message, new JsonObject { ["roomParticipant"] = true, ["roomType"] = roomType, ["roomName"] = roomType == "d" ? userName : "ops" }),
            },
        });
        return id;
    }

    /// <summary>Sends a DDP ping with an id; the answering pong's id arrives through <see cref="NextPongAsync"/>.</summary>
    public Task PingAsync(string id) => SendAsync(Current(), new JsonObject { ["msg"] = "ping", ["id"] = id });

    public async Task<string> NextPongAsync() => await _pongs.Reader.ReadAsync().AsTask().WaitAsync(AdapterHarness.Wait);

    private bool Authenticated(HttpRequest r) =>
        r.Headers["X-User-Id"].ToString() == BotId && (r.Headers["X-Auth-Token"].ToString() == BotToken || r.Headers["X-Auth-Token"].ToString() == SessionToken);

    private static IResult NotLoggedIn() => Results.Json(new { success = false, status = "error", message = "You must be logged in to do this." }, statusCode: 401);

    protected override void Map(WebApplication app)
    {
        app.MapPost("/api/v1/login", async (HttpRequest r) =>
        {
            var body = (await JsonNode.ParseAsync(r.Body))!;
            if (body["user"]?.GetValue<string>() != "opsrobot" || body["password"]?.GetValue<string>() != BotPassword)
            {
                return Results.Json(new { status = "error", error = "Unauthorized", message = "Unauthorized" }, statusCode: 401);
            }

            Interlocked.Increment(ref Logins);
            return Results.Json(new { status = "success", data = new { userId = BotId, authToken = SessionToken, me = new { _id = BotId, username = "opsrobot" } } });
        });
        app.MapGet("/api/v1/me", (HttpRequest r) => !Authenticated(r) ? NotLoggedIn() : Results.Json(new { _id = BotId, username = "opsrobot", name = "OpsRobot", status = "online", active = true, success = true }));
        app.MapPost("/api/v1/im.create", async (HttpRequest r, HttpResponse response) =>
        {
            if (!Authenticated(r))
            {
                return NotLoggedIn();
            }

            var username = (await JsonNode.ParseAsync(r.Body))?["username"]?.GetValue<string>() ?? string.Empty;
            if (TakeOne(ref RateLimitOpenNext))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), username, 429));
                response.Headers["X-RateLimit-Limit"] = "10";
                response.Headers["X-RateLimit-Remaining"] = "0";
                response.Headers["X-RateLimit-Reset"] = (TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() + 2000).ToString(CultureInfo.InvariantCulture);
                return Results.Json(new { success = false, error = "Error, too many requests. Please slow down. You must wait 2 seconds before trying this endpoint again. [error-too-many-requests]" }, statusCode: 429);
            }

            if (!Users.TryGetValue(username, out var userId))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), username, 400));
                return Results.Json(new { success = false, error = "Failed to create direct message room [error-invalid-user]", errorType = "error-invalid-user" }, statusCode: 400);
            }

            OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), username, 200));
            var rid = DirectRoomWith(userId);
            return Results.Json(new { room = new { _id = rid, rid, t = "d", usernames = new[] { "opsrobot", username } }, success = true });
        });
        app.MapPost("/api/v1/chat.sendMessage", async (HttpRequest r, HttpResponse response) =>
        {
            if (!Authenticated(r))
            {
                return NotLoggedIn();
            }

            if (RateLimitPost(okStatus: 200))
            {
                response.Headers["X-RateLimit-Limit"] = "10";
                response.Headers["X-RateLimit-Remaining"] = "0";
                response.Headers["X-RateLimit-Reset"] = (TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() + 2000).ToString(CultureInfo.InvariantCulture);
                return Results.Json(new { success = false, error = "Error, too many requests. Please slow down. You must wait 2 seconds before trying this endpoint again. [error-too-many-requests]" }, statusCode: 429);
            }

            var message = (await JsonNode.ParseAsync(r.Body))!["message"]!.AsObject();
            var id = message["_id"]?.GetValue<string>() ?? "S" + Interlocked.Increment(ref _ids).ToString("D16", CultureInfo.InvariantCulture);
            if (!_messageIds.TryAdd(id, true))
            {
                return Results.Json(new { success = false, error = "A message with this id already exists." }, statusCode: 400);
            }

            if (message["rid"]?.GetValue<string>() is not { Length: > 0 })
            {
                return Results.Json(new { success = false, error = "The 'rid' property on the message object is missing." }, statusCode: 400);
            }

            message["u"] = new JsonObject { ["_id"] = BotId, ["username"] = "opsrobot" };
            await RecordPostAsync(message);
            return Results.Json(new JsonObject { ["message"] = message.DeepClone(), ["success"] = true });
        });
        app.MapGet("/api/v1/chat.syncMessages", (HttpRequest r) =>
        {
            if (!Authenticated(r))
            {
                return NotLoggedIn();
            }

            Interlocked.Increment(ref Syncs);
            var room = r.Query["roomId"].ToString();
            if (!DateTimeOffset.TryParse(r.Query["lastUpdate"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
            {
                return Results.Json(new { success = false, error = "The required \"lastUpdate\" query param is missing or invalid." }, statusCode: 400);
            }

            var updated = new JsonArray(_history
                .Where(m => m["rid"]!.GetValue<string>() == room && m["_updatedAt"]!["$date"]!.GetValue<long>() > since.ToUnixTimeMilliseconds())
                .Select(m => (JsonNode)m.DeepClone())
                .ToArray());
            return Results.Json(new JsonObject { ["result"] = new JsonObject { ["updated"] = updated, ["deleted"] = new JsonArray() }, ["success"] = true });
        });
        app.Map("/websocket", async (HttpContext context) =>
        {
            if (RefuseConnections)
            {
                context.Response.StatusCode = 503;
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            Interlocked.Increment(ref Connections);
            await SendAsync(socket, new JsonObject { ["server_id"] = "0" });
            await ReceiveUntilClosedAsync(socket, frame => OnFrameAsync(socket, frame));
            Detach(socket);
        });
    }

    private async Task OnFrameAsync(WebSocket socket, JsonNode frame)
    {
        switch (frame["msg"]?.GetValue<string>())
        {
            case "connect" when frame["version"]?.GetValue<string>() == "1":
                await SendAsync(socket, new JsonObject { ["msg"] = "connected", ["session"] = Guid.NewGuid().ToString("N") });
                break;
            case "connect":
                await SendAsync(socket, new JsonObject { ["msg"] = "failed", ["version"] = "1" });
                break;
            case "pong":
                await _pongs.Writer.WriteAsync(frame["id"]?.GetValue<string>() ?? string.Empty);
                break;
            case "ping":
                await SendAsync(socket, new JsonObject { ["msg"] = "pong" });
                break;
            case "method" when frame["method"]?.GetValue<string>() == "login":
                var resume = frame["params"]?[0]?["resume"]?.GetValue<string>();
                var id = frame["id"]!.GetValue<string>();
                if (resume != BotToken && resume != SessionToken)
                {
                    await SendAsync(socket, new JsonObject
                    {
                        ["msg"] = "result",
                        ["id"] = id,
                        ["error"] = new JsonObject { ["isClientSafe"] = true, ["error"] = 403, ["reason"] = "You've been logged out by the server. Please log in again.", ["errorType"] = "Meteor.Error" },
                    });
                    break;
                }

                await SendAsync(socket, new JsonObject { ["msg"] = "added", ["collection"] = "users", ["id"] = BotId, ["fields"] = new JsonObject { ["username"] = "opsrobot" } });
                await SendAsync(socket, new JsonObject
                {
                    ["msg"] = "result",
                    ["id"] = id,
                    ["result"] = new JsonObject { ["id"] = BotId, ["token"] = resume, ["tokenExpires"] = new JsonObject { ["$date"] = 1_900_000_000_000 }, ["type"] = "resume" },
                });
                break;
            case "sub" when (frame["name"]?.GetValue<string>() == "stream-room-messages") && (frame["params"]?[0]?.GetValue<string>() == "__my_messages__"):
                var connected = Attach(socket);
                await SendAsync(socket, new JsonObject { ["msg"] = "ready", ["subs"] = new JsonArray(frame["id"]!.GetValue<string>()) });
                connected.TrySetResult();
                break;
            case "sub":
                await SendAsync(socket, new JsonObject { ["msg"] = "nosub", ["id"] = frame["id"]!.GetValue<string>(), ["error"] = new JsonObject { ["error"] = 404, ["reason"] = "Subscription not found" } });
                break;
            default:
                break;
        }
    }
}
