using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Chat.Connected;

/// <summary>
/// A WebSocket that carries one JSON object per text message, as Slack's Socket Mode, Mattermost's WebSocket API
/// and Rocket.Chat's DDP all do. Sends are serialised; a message larger than the limit ends the connection (a
/// server, or something pretending to be one, cannot make the robot buffer without bound).
/// </summary>
public sealed class JsonWebSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly int _maxBytes;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private JsonWebSocket(ClientWebSocket socket, int maxBytes)
    {
        _socket = socket;
        _maxBytes = maxBytes;
    }

    /// <summary>Opens the connection; <paramref name="configure"/> may add headers (a token) to the handshake.</summary>
    public static async Task<JsonWebSocket> ConnectAsync(Uri url, Action<ClientWebSocketOptions>? configure, TimeSpan timeout, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(30);
        configure?.Invoke(socket.Options);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(url, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"Opening the WebSocket to {url.Host} took longer than {timeout.TotalSeconds:0} s.", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new JsonWebSocket(socket, maxBytes);
    }

    public async Task SendAsync(JsonNode message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// The next JSON object from the server; null when the server closed the connection. Text that is not a JSON
    /// object is returned as an empty object's absence: it is skipped, and <paramref name="onMalformed"/> told.
    /// </summary>
    public async Task<JsonObject?> ReceiveAsync(Action<int>? onMalformed, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return null;
                    }

                    if (message.Length + result.Count > _maxBytes)
                    {
                        throw new InvalidDataException($"The server sent a WebSocket message larger than {_maxBytes} bytes.");
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    onMalformed?.Invoke((int)message.Length);
                    continue;
                }

                try
                {
                    if (JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length), documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) is JsonObject json)
                    {
                        return json;
                    }
                }
                catch (JsonException)
                {
                    // Reported below; one bad frame does not end the connection.
                }

                onMalformed?.Invoke((int)message.Length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Closes politely, without waiting long for a server that has gone quiet.</summary>
    public async Task CloseAsync(string reason)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Closing is a courtesy; the socket is disposed either way.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync("bye").ConfigureAwait(false);
        _socket.Dispose();
        _sendLock.Dispose();
    }
}
