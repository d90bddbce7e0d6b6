using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsRobot.Chat.Tests.Support;

namespace OpsRobot.Chat.Tests.Slack;

/// <summary>
/// A Slack written from its documentation, on loopback: the Web API methods the adapter calls (<c>auth.test</c>,
/// <c>apps.connections.open</c>, <c>chat.postMessage</c>, <c>users.info</c>, <c>conversations.open</c> with
/// <c>users</c>, answering the same D… conversation for the same user) with bearer tokens and
/// <c>{"ok": …}</c> answers, 429 with <c>Retry-After</c> on demand; and Socket Mode: single-use WebSocket
/// addresses, <c>hello</c>, envelopes with <c>envelope_id</c> that must be acknowledged, redelivery of
/// unacknowledged envelopes on the next connection (<c>retry_attempt</c>), and <c>disconnect</c> messages.
/// </summary>
internal sealed class FakeSlack : FakeChatServer
{
    public const string AppToken = "xapp-1-A0001-1-secretapp";
    public const string BotToken = "xoxb-1-2-secretbot";
    public const string BotUserId = "UBOT0001";

    private readonly ConcurrentDictionary<string, bool> _tickets = new();
    private readonly ConcurrentDictionary<string, JsonObject> _unacked = new();
    private readonly ConcurrentDictionary<string, bool> _losingAcks = new();
    private readonly Channel<string> _acks = Channel.CreateUnbounded<string>();
    private int _envelopes;
    private int _posted;

    /// <summary>The Web API's base address (<c>…/api/</c>).</summary>
    public Uri ApiBase => new(BaseUrl, "api/");

    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>While true, apps.connections.open answers an error (Slack unreachable for new connections).</summary>
    public volatile bool RefuseConnections;

    /// <summary>How many of the next conversations.open calls get 429.</summary>
    public int RateLimitOpenNext;

    /// <summary>When set, conversations.open answers <c>{"ok": false, "error": …}</c> with this error.</summary>
    public volatile string? RefuseOpen;

    /// <summary>When each conversations.open call arrived, for whom, and its HTTP status.</summary>
    public ConcurrentQueue<(DateTimeOffset At, string Users, int Status)> OpenAttempts { get; } = new();

    /// <summary>The direct conversation (D…) Slack keeps for each user with the bot.</summary>
    public ConcurrentDictionary<string, string> DirectChannels { get; } = new();

    public static Task<FakeSlack> StartAsync() => StartAsync(new FakeSlack());

    /// <summary>Sends an <c>events_api</c> envelope carrying <paramref name="slackEvent"/>; returns its envelope id.</summary>
    /// <remarks>With <paramref name="loseAck"/>, the acknowledgement is lost on its way: the envelope stays due for redelivery.</remarks>
    public Task<string> SendEventAsync(JsonObject slackEvent, bool loseAck = false) => SendEnvelopeAsync("events_api", new JsonObject
    {
        ["token"] = "verification-token-unused",
        ["team_id"] = "T0001",
        ["api_app_id"] = "A0001",
        ["event"] = slackEvent,
        ["type"] = "event_callback",
        ["event_id"] = "Ev" + Interlocked.Increment(ref _envelopes).ToString(CultureInfo.InvariantCulture),
        ["event_time"] = 1_700_000_000,
    }, loseAck);

    /// <summary>A user's message event as Slack documents it.</summary>
    public static JsonObject Message(string user, string channel, string text, string ts, string? threadTs = null, string type = "message")
    {
        var e = new JsonObject
        {
            ["type"] = type,
            ["user"] = user,
            ["text"] = text,
            ["ts"] = ts,
            ["channel"] = channel,
            ["event_ts"] = ts,
            ["channel_type"] = channel.StartsWith('D') ? "im" : "channel",
        };
        if (threadTs is not null)
        {
            e["thread_ts"] = threadTs;
        }

        return e;
    }

    /// <summary>A <c>block_actions</c> interaction: <paramref name="user"/> pressed <paramref name="button"/> (an element of a posted actions block).</summary>
    public Task<string> PressAsync(string user, string channel, JsonObject posted, JsonNode button)
    {
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = user, ["username"] = "bob", ["name"] = "bob", ["team_id"] = "T0001" },
            ["api_app_id"] = "A0001",
            ["trigger_id"] = "1234.5678.abcd",
            ["team"] = new JsonObject { ["id"] = "T0001", ["domain"] = "fake" },
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = posted["ts"]!.GetValue<string>(), ["channel_id"] = channel, ["is_ephemeral"] = false },
            ["channel"] = new JsonObject { ["id"] = channel, ["name"] = "ops" },
            ["message"] = new JsonObject { ["type"] = "message", ["ts"] = posted["ts"]!.GetValue<string>(), ["text"] = posted["text"]!.GetValue<string>() },
            ["actions"] = new JsonArray(new JsonObject
            {
                ["action_id"] = button["action_id"]!.GetValue<string>(),
                ["block_id"] = "b1",
                ["text"] = button["text"]!.DeepClone(),
                ["value"] = button["value"]!.GetValue<string>(),
                ["type"] = "button",
                ["action_ts"] = "1700000100.000" + Interlocked.Increment(ref _envelopes).ToString("D3", CultureInfo.InvariantCulture),
            }),
        };
        if (posted["thread_ts"] is { } thread)
        {
            payload["message"]!["thread_ts"] = thread.GetValue<string>();
        }

        return SendEnvelopeAsync("interactive", payload, loseAck: false);
    }

    /// <summary>Sends Slack's <c>disconnect</c> message, then closes the socket, as Slack does before rotating a connection.</summary>
    public async Task DisconnectAsync(string reason)
    {
        var socket = Current();
        await SendAsync(socket, new JsonObject { ["type"] = "disconnect", ["reason"] = reason, ["debug_info"] = new JsonObject { ["host"] = "fake-slack" } });
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "disconnect", CancellationToken.None);
    }

    public async Task<string> NextAckAsync() => await _acks.Reader.ReadAsync().AsTask().WaitAsync(AdapterHarness.Wait);

    private async Task<string> SendEnvelopeAsync(string type, JsonObject payload, bool loseAck)
    {
        var id = Guid.NewGuid().ToString();
        var envelope = new JsonObject
        {
            ["envelope_id"] = id,
            ["payload"] = payload,
            ["type"] = type,
            ["accepts_response_payload"] = false,
            ["retry_attempt"] = 0,
            ["retry_reason"] = string.Empty,
        };
        _unacked[id] = envelope;
        if (loseAck)
        {
            _losingAcks[id] = true;
        }

        await SendAsync(Current(), envelope);
        return id;
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/api/auth.test", (HttpRequest r) => !Bearer(r, BotToken) ? NotOk("invalid_auth") : Results.Json(new
        {
            ok = true,
            url = "https://fake.slack.com/",
            team = "Fake Workspace",
            user = "opsrobot",
            team_id = "T0001",
            user_id = BotUserId,
            bot_id = "B0001",
            is_enterprise_install = false,
        }));
        app.MapPost("/api/apps.connections.open", (HttpRequest r) =>
        {
            if (!Bearer(r, AppToken))
            {
                return NotOk("invalid_auth");
            }

            if (RefuseConnections)
            {
                return Results.Json(new { ok = false, error = "internal_error" }, statusCode: 503);
            }

            var ticket = Guid.NewGuid().ToString("N");
            _tickets[ticket] = true;
            return Results.Json(new { ok = true, url = $"ws://{r.Host}/link/?ticket={ticket}&app_id=A0001" });
        });
        app.MapGet("/api/users.info", (HttpRequest r) => !Bearer(r, BotToken) ? NotOk("invalid_auth") : Results.Json(new
        {
            ok = true,
            user = new { id = r.Query["user"].ToString(), name = "user-" + r.Query["user"].ToString().ToLowerInvariant(), real_name = "Someone" },
        }));
        app.MapPost("/api/conversations.open", async (HttpRequest r) =>
        {
            if (!Bearer(r, BotToken))
            {
                return NotOk("not_authed");
            }

            var users = (await JsonNode.ParseAsync(r.Body))?["users"]?.GetValue<string>() ?? string.Empty;
            if (TakeOne(ref RateLimitOpenNext))
            {
                OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 429));
                r.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.Json(new { ok = false, error = "ratelimited" }, statusCode: 429);
            }

            OpenAttempts.Enqueue((TimeProvider.System.GetUtcNow(), users, 200));
            if (users.Length == 0)
            {
                return NotOk("users_list_not_supplied");
            }

            if (RefuseOpen is { } error)
            {
                return NotOk(error);
            }

            // One user: a 1:1 conversation, the same one each time it is opened again.
            var existed = DirectChannels.ContainsKey(users);
            var id = DirectChannels.GetOrAdd(users, _ => "D0" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant());
            return Results.Json(new { ok = true, no_op = existed, already_open = existed, channel = new { id } });
        });
        app.MapPost("/api/chat.postMessage", async (HttpRequest r) =>
        {
            if (!Bearer(r, BotToken))
            {
                return NotOk("not_authed");
            }

            if (RateLimitPost(okStatus: 200))
            {
                r.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.Json(new { ok = false, error = "ratelimited" }, statusCode: 429);
            }

            var body = (await JsonNode.ParseAsync(r.Body))!.AsObject();
            if (body["channel"]?.GetValue<string>() is not { Length: > 0 } channel)
            {
                return NotOk("channel_not_found");
            }

            if (body["text"] is null && body["blocks"] is null)
            {
                return NotOk("no_text");
            }

            var ts = "1700000500." + Interlocked.Increment(ref _posted).ToString("D6", CultureInfo.InvariantCulture);
            body["ts"] = ts;
            await RecordPostAsync(body);
            return Results.Json(new { ok = true, channel, ts, message = new { type = "message", text = body["text"]?.GetValue<string>(), user = BotUserId, ts } });
        });
        app.Map("/link", async (HttpContext context) =>
        {
            var ticket = context.Request.Query["ticket"].ToString();
            if (!context.WebSockets.IsWebSocketRequest || !_tickets.TryRemove(ticket, out _))
            {
                // Socket Mode addresses are single use.
                context.Response.StatusCode = 401;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var connected = Attach(socket);
            Interlocked.Increment(ref Connections);
            await SendAsync(socket, new JsonObject
            {
                ["type"] = "hello",
                ["num_connections"] = 1,
                ["debug_info"] = new JsonObject { ["host"] = "fake-slack", ["build_number"] = 1, ["approximate_connection_time"] = 18060 },
                ["connection_info"] = new JsonObject { ["app_id"] = "A0001" },
            });
            foreach (var envelope in _unacked.Values.ToList())
            {
                envelope["retry_attempt"] = envelope["retry_attempt"]!.GetValue<int>() + 1;
                envelope["retry_reason"] = "timeout";
                await SendAsync(socket, envelope);
            }

            connected.TrySetResult();
            await ReceiveUntilClosedAsync(socket, OnAckAsync);
            Detach(socket);
        });
    }

    private async Task OnAckAsync(JsonNode ack)
    {
        var id = ack["envelope_id"]!.GetValue<string>();
        if (!_losingAcks.TryRemove(id, out _) && _unacked.TryRemove(id, out _))
        {
            await _acks.Writer.WriteAsync(id);
        }
    }

    private static bool Bearer(HttpRequest r, string token) => r.Headers.Authorization.ToString() == "Bearer " + token;

    private static IResult NotOk(string error) => Results.Json(new { ok = false, error });
}
