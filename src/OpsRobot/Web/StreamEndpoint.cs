using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>
/// The web chat's live connection: a WebSocket that delivers every new message of the user's rooms and takes the
/// lines the user sends. Frames are JSON; see docs/api.md.
/// </summary>
internal static partial class StreamEndpoint
{
    public static IEndpointRouteBuilder MapWebChatStream(this IEndpointRouteBuilder app)
    {
        // Authenticated in the handler, like the rest of the API: a session, an API key or a bearer token.
        app.Map("/api/v1/stream", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(
        HttpContext http, IUserStore users, IRoomStore rooms, BuiltInChat chat, RoomFeed feed, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var (me, refused) = await WebChatEndpoints.ChatUserAsync(http, users, http.RequestAborted);
        if (me is null)
        {
            await refused!.ExecuteAsync(http);
            return;
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsJsonAsync(new ErrorDto("This endpoint takes WebSocket connections only."));
            return;
        }

        // A page from another site must not ride on the user's cookie (cross-site WebSocket hijacking).
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !SameOrigin(origin, http.Request))
        {
            await ApiCallers.Forbidden("This connection comes from a page of another site; the web chat's stream takes its own pages only.").ExecuteAsync(http);
            return;
        }

        var logger = loggers.CreateLogger("OpsRobot.Web.Stream");
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        using var subscription = feed.Subscribe(me.Id);
        using var writer = new FrameWriter(socket);
        LogConnected(logger, me.Name);

        await writer.SendAsync(new { type = "hello", user = UserDto.From(me) }, stop.Token);
        var pump = PumpAsync(subscription, writer, stop.Token);
        try
        {
            await ReceiveAsync(socket, me, rooms, chat, writer, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (WebSocketException)
        {
            // The browser went away without a closing handshake: nothing to answer.
        }
        finally
        {
            await stop.CancelAsync();
            await pump;
            var reason = subscription.Overflowed ? "fell behind; reconnect and catch up" : "bye";
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await socket.CloseOutputAsync(
                        subscription.Overflowed ? WebSocketCloseStatus.PolicyViolation : WebSocketCloseStatus.NormalClosure, reason, closing.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                }
            }

            LogDisconnected(logger, me.Name, reason);
        }
    }

    private static async Task PumpAsync(RoomFeed.Subscription subscription, FrameWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in subscription.Messages.ReadAllAsync(cancellationToken))
            {
                await writer.SendAsync(new { type = "message", room = message.RoomName, message = MessageDto.From(message) }, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            return;
        }

        // The feed ended on its own: this subscriber fell behind. Drop the socket; the page reconnects and catches up.
        if (subscription.Overflowed)
        {
            writer.Abort();
        }
    }

    private static async Task ReceiveAsync(WebSocket socket, UserRecord me, IRoomStore rooms, BuiltInChat chat, FrameWriter writer, CancellationToken cancellationToken)
    {
        // A frame holds at most one chat line; allow for JSON escaping (up to 6 bytes a character) and the envelope.
        var maxFrame = (chat.Options.MaxMessageLength * 6) + 1024;
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (!cancellationToken.IsCancellationRequested && socket.State == WebSocketState.Open)
        {
            buffer.Clear();
            ValueWebSocketReceiveResult result;
            var tooBig = false;
            do
            {
                var memory = buffer.GetMemory(4096);
                result = await socket.ReceiveAsync(memory, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (tooBig)
                {
                    continue; // read to the end of the oversized frame, keep none of it
                }

                if (buffer.WrittenCount + result.Count > maxFrame)
                {
                    tooBig = true;
                    buffer.Clear();
                }
                else
                {
                    buffer.Advance(result.Count);
                }
            }
            while (!result.EndOfMessage);

            if (tooBig)
            {
                await writer.SendAsync(new { type = "error", room = (string?)null, error = $"That message is over the limit of {chat.Options.MaxMessageLength:N0} characters." }, cancellationToken);
                continue;
            }

            if (result.MessageType != WebSocketMessageType.Text)
            {
                await writer.SendAsync(new { type = "error", room = (string?)null, error = "Send JSON text frames." }, cancellationToken);
                continue;
            }

            await HandleFrameAsync(buffer.WrittenMemory, me, rooms, chat, writer, cancellationToken);
        }
    }

    private static async Task HandleFrameAsync(ReadOnlyMemory<byte> frame, UserRecord me, IRoomStore rooms, BuiltInChat chat, FrameWriter writer, CancellationToken cancellationToken)
    {
        string? type, roomName, text;
        try
        {
            using var doc = JsonDocument.Parse(frame, new JsonDocumentOptions { MaxDepth = 8 });
            var root = doc.RootElement;
            type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            roomName = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("room", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            text = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString() : null;
        }
        catch (JsonException)
        {
            await writer.SendAsync(new { type = "error", room = (string?)null, error = "That frame is not valid JSON." }, cancellationToken);
            return;
        }

        if (type != "send" || roomName is null || text is null)
        {
            await writer.SendAsync(new { type = "error", room = roomName, error = "Expected {\"type\":\"send\",\"room\":NAME,\"text\":TEXT}." }, cancellationToken);
            return;
        }

        var room = await rooms.FindAsync(roomName, cancellationToken);
        if (room is null || (room.Kind == RoomKind.Direct && room.OwnerUserId != me.Id) || !await rooms.IsMemberAsync(room.Id, me.Id, cancellationToken))
        {
            await writer.SendAsync(new { type = "error", room = roomName, error = "You are not a member of that room; join it first." }, cancellationToken);
            return;
        }

        try
        {
            await chat.PostAsync(me, room, text, WebChatEndpoints.Platform, cancellationToken);
        }
        catch (ChatRefusedException ex)
        {
            await writer.SendAsync(new { type = "error", room = roomName, error = ex.Message }, cancellationToken);
        }
        catch (StoreUnavailableException ex)
        {
            await writer.SendAsync(new { type = "error", room = roomName, error = $"Not sent: {ex.Message}" }, cancellationToken);
        }
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Serialises sends: the feed pump and the replies to the user's own frames share one socket.</summary>
    private sealed class FrameWriter(WebSocket socket) : IDisposable
    {
        private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
        private readonly SemaphoreSlim _gate = new(1, 1);

        public async Task SendAsync<T>(T frame, CancellationToken cancellationToken)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, Json);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Dispose() => _gate.Dispose();

        public void Abort()
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                socket.Abort();
            }
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Debug, Message = "Web chat connection opened for {UserName}")]
    private static partial void LogConnected(ILogger logger, string userName);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Web chat connection closed for {UserName}: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string userName, string reason);
}
