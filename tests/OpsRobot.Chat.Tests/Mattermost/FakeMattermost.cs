using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsRobot.Chat.Tests.Support;

namespace OpsRobot.Chat.Tests.Mattermost;

/// <summary>
/// A Mattermost written from its API v4 documentation, on loopback: <c>GET /api/v4/users/me</c>,
/// <c>POST /api/v4/channels/direct</c> (two user ids; one channel per pair, 201 with the channel) and
/// <c>POST /api/v4/posts</c> with bearer tokens, <c>pending_post_id</c> de-duplication, 429 with
/// <c>X-Ratelimit-*</c> headers on demand; <c>/api/v4/websocket</c> with the <c>authentication_challenge</c> action
/// and <c>seq_reply</c>, a <c>hello</c> carrying the <c>connection_id</c>, <c>posted</c> events with the post as a
/// JSON string, numbered by <c>seq</c>, and resumption (<c>connection_id</c> + <c>sequence_number</c>) replaying
/// the events sent while the client was away. Interactive buttons are pressed the way the server does it: a POST
/// of the documented body, context included, to the button's integration URL.
/// </summary>
internal sealed class FakeMattermost : FakeChatServer
{
    public const string Token = "mmbottokensecret0000000000";
    public const string BotId = "b0t0000000000000000000000a";
    public const string TeamId = "t0000000000000000000000000";

    private readonly ConcurrentDictionary<string, JsonObject> _byPendingId = new();
    private readonly List<JsonObject> _events = [];
    private readonly HttpClient _client = new();
    private string _connectionId = "c" + Guid.NewGuid().ToString("N")[..25];
    private long _seq;
    private int _ids;

    public Uri ServerUrl => BaseUrl;

    /// <summary>Connections that asked to resume the previous one.</summary>
    public int Resumptions;

    /// <summary>How many of the next channels/direct calls get 429.</summary>
    public int RateLimitOpenNext;

    /// <summary>When true, channels/direct answers 403 (the bot lacks <c>create_direct_channel</c>).</summary>
    public volatile bool RefuseOpen;

    /// <summary>When each channels/direct call arrived, with the user ids it named and its HTTP status.</summary>
    public ConcurrentQueue<(DateTimeOffset At, string Users, int Status)> OpenAttempts { get; } = new();

    /// <summary>The direct channel the server keeps for each pair of users (by <c>id1__id2</c>, the channel's name).</summary>
    public ConcurrentDictionary<string, string> DirectChannels { get; } = new();

    /// <summary>The direct channel between the bot and <paramref name="userId"/>, if one was made.</summary>
    public string? DirectChannelWith(string userId) =>
        DirectChannels.GetValueOrDefault(string.Join("__", new[] { BotId, userId }.Order(StringComparer.Ordinal)));

    public static Task<FakeMattermost> StartAsync() => StartAsync(new FakeMattermost());

    public static string NewId(char c) => new string(c, 1) + Guid.NewGuid().ToString("N")[..25];

    /// <summary>A user posts; the <c>posted</c> event is sent now, or kept for replay while the robot is away. Returns the post id.</summary>
    public async Task<string> PostAsUserAsync(string userId, string userName, string channelId, string message, string rootId = "", string channelType = "O", string type = "")
    {
        var id = NewId('p');
        var post = new JsonObject
        {
            ["id"] = id,
            ["create_at"] = 1_700_000_000_000 + Interlocked.Increment(ref _ids),
            ["update_at"] = 1_700_000_000_000,
            ["edit_at"] = 0,
            ["delete_at"] = 0,
            ["is_pinned"] = false,
            ["user_id"] = userId,
            ["channel_id"] = channelId,
            ["root_id"] = rootId,
            ["original_id"] = string.Empty,
            ["message"] = message,
            ["type"] = type,
            ["props"] = new JsonObject(),
            ["hashtags"] = string.Empty,
            ["pending_post_id"] = string.Empty,
        };
        await BroadcastAsync("posted", new JsonObject
        {
            ["channel_display_name"] = channelType == "D" ? "@" + userName : "Ops",
            ["channel_name"] = channelType == "D" ? $"{userId}__{BotId}" : "ops",
            ["channel_type"] = channelType,
            ["post"] = post.ToJsonString(),
            ["sender_name"] = "@" + userName,
            ["set_online"] = true,
            ["team_id"] = TeamId,
        }, channelId);
        return id;
    }

    /// <summary>Presses button <paramref name="index"/> of a post's attachment as Mattermost does: POST to its integration URL.</summary>
    public async Task<HttpResponseMessage> PressAsync(JsonObject post, int index, string userId, string userName, Func<JsonObject, JsonObject>? tamper = null)
    {
        var action = post["props"]!["attachments"]![0]!["actions"]![index]!;
        var context = action["integration"]!["context"]!.AsObject().DeepClone().AsObject();
        var body = new JsonObject
        {
            ["user_id"] = userId,
            ["user_name"] = userName,
            ["channel_id"] = post["channel_id"]!.GetValue<string>(),
            ["channel_name"] = "ops",
            ["team_id"] = TeamId,
            ["team_domain"] = "fake",
            ["post_id"] = post["id"]!.GetValue<string>(),
            ["trigger_id"] = "trigger-" + Guid.NewGuid().ToString("N"),
            ["type"] = string.Empty,
            ["data_source"] = string.Empty,
            ["context"] = tamper is null ? context : tamper(context),
        };
        return await _client.PostAsync(action["integration"]!["url"]!.GetValue<string>(), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _client.Dispose();
    }

    private async Task BroadcastAsync(string name, JsonObject data, string channelId)
    {
        JsonObject frame;
        WebSocket? socket;
        lock (Gate)
        {
            frame = new JsonObject
            {
                ["event"] = name,
                ["data"] = data,
                ["broadcast"] = new JsonObject { ["omit_users"] = null, ["user_id"] = string.Empty, ["channel_id"] = channelId, ["team_id"] = string.Empty },
                ["seq"] = _seq++,
            };
            _events.Add(frame);
            socket = CurrentOrNull();
        }

        // A socket gone meanwhile loses the frame; the event stays in the buffer for a resuming client.
        if (socket is not null)
        {
            await SendAsync(socket, frame);
        }
    }

    private static bool Bearer(HttpRequest r) => r.Headers.Authorization.ToString() == "Bearer " + Token;

    private static IResult AppError(int status, string id, string message) =>
        Results.Json(new { id, message, detailed_error = string.Empty, request_id = "r1", status_code = status }, statusCode: status);

    protected override void Map(WebApplication app)
    {
        app.MapGet("/api/v4/users/me", (HttpRequest r) => !Bearer(r)
            ? AppError(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
            : Results.Json(new { id = BotId, username = "opsrobot", is_bot = true, roles = "system_user", locale = "en" }));
        app.MapPost("/api/v4/channels/direct", async (HttpRequest r, HttpResponse response) =>
        {
            if (!Bearer(r))
            {
                return AppError(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.");
            }

            var ids = (await JsonNode.ParseAsync(r.Body)) is JsonArray array ? array.Select(n => n?.GetValue<string>() ?? string.Empty).ToList() : [];
            var users = string.Join(",", ids);
            if (TakeOne(ref RateLimitOpenNext))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 429));
                response.Headers["X-Ratelimit-Limit"] = "10";
                response.Headers["X-Ratelimit-Remaining"] = "0";
                response.Headers["X-Ratelimit-Reset"] = "2";
                return AppError(429, "api.context.rate_limit.app_error", "Too many requests.");
            }

            if (ids.Count != 2 || ids.Any(id => id.Length != 26))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 400));
                return AppError(400, "api.context.invalid_body_param.app_error", "Invalid or missing user_ids in request body.");
            }

            if (RefuseOpen || !ids.Contains(BotId))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 403));
                return AppError(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.");
            }

            OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 201));
            var name = string.Join("__", ids.Order(StringComparer.Ordinal));
            var id = DirectChannels.GetOrAdd(name, _ => NewId('d'));
            return Results.Json(new { id, create_at = 1_700_000_000_000, team_id = string.Empty, type = "D", display_name = string.Empty, name, creator_id = string.Empty }, statusCode: 201);
        });
        app.MapPost("/api/v4/posts", async (HttpRequest r, HttpResponse response) =>
        {
            if (!Bearer(r))
            {
                return AppError(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.");
            }

            if (RateLimitPost(okStatus: 201))
            {
                response.Headers["X-Ratelimit-Limit"] = "10";
                response.Headers["X-Ratelimit-Remaining"] = "0";
                response.Headers["X-Ratelimit-Reset"] = "2";
                return AppError(429, "api.context.rate_limit.app_error", "Too many requests.");
            }

            var body = (await JsonNode.ParseAsync(r.Body))!.AsObject();
            var pending = body["pending_post_id"]?.GetValue<string>() ?? string.Empty;
            if (pending.Length > 0 && _byPendingId.TryGetValue(pending, out var existing))
            {
                // The server remembers pending post ids for a while and answers a retry with the post it made.
                return Results.Json(existing, statusCode: 201);
            }

            if (body["channel_id"]?.GetValue<string>() is not { Length: 26 })
            {
                return AppError(400, "api.context.invalid_body_param.app_error", "Invalid or missing channel_id in request body.");
            }

            body["id"] = NewId('r');
            body["user_id"] = BotId;
            body["create_at"] = 1_700_000_000_000 + Interlocked.Increment(ref _ids);
            if (pending.Length > 0)
            {
                _byPendingId[pending] = body;
            }

            await RecordPostAsync(body);
            return Results.Json(body, statusCode: 201);
        });
        app.Map("/api/v4/websocket", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var challenge = await ReceiveOneAsync(socket);
            if (challenge["action"]?.GetValue<string>() != "authentication_challenge" || challenge["data"]?["token"]?.GetValue<string>() != Token)
            {
                await SendAsync(socket, new JsonObject
                {
                    ["status"] = "FAIL",
                    ["seq_reply"] = challenge["seq"]?.GetValue<long>() ?? 0,
                    ["error"] = new JsonObject { ["id"] = "api.web_socket_router.not_authenticated.app_error", ["message"] = "Invalid session." },
                });
                await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "auth", CancellationToken.None);
                return;
            }

            await SendAsync(socket, new JsonObject { ["status"] = "OK", ["seq_reply"] = challenge["seq"]!.GetValue<long>() });
            var resumeId = context.Request.Query["connection_id"].ToString();
            var resumeFrom = long.TryParse(context.Request.Query["sequence_number"], CultureInfo.InvariantCulture, out var n) ? n : -1;
            List<JsonObject> replay = [];
            TaskCompletionSource connected;
            var resumed = false;
            lock (Gate)
            {
                if (resumeId == _connectionId && resumeFrom >= 0)
                {
                    resumed = true;
                    Interlocked.Increment(ref Resumptions);
                    replay = _events.Where(e => e["seq"]!.GetValue<long>() >= resumeFrom).ToList();
                }
                else
                {
                    _connectionId = "c" + Guid.NewGuid().ToString("N")[..25];
                    _events.Clear();
                    _seq = 0;
                }

                // Under the same lock as the replay: an event broadcast meanwhile is either replayed or sent live.
                connected = Attach(socket);
            }

            Interlocked.Increment(ref Connections);
            if (!resumed)
            {
                await BroadcastAsync("hello", new JsonObject { ["server_version"] = "10.5.0.fake", ["connection_id"] = _connectionId }, string.Empty);
            }

            foreach (var e in replay)
            {
                await SendAsync(socket, e);
            }

            connected.TrySetResult();
            await ReceiveUntilClosedAsync(socket);
            Detach(socket);
        });
    }
}
