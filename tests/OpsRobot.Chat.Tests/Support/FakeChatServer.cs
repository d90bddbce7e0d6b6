using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;

namespace OpsRobot.Chat.Tests.Support;

/// <summary>
/// The plumbing the fake chat servers (Slack, Mattermost, Rocket.Chat) share, so each fake holds only its platform's
/// documented protocol: Kestrel on a loopback port, the robot's one live WebSocket (attached when the protocol says it
/// is ready, detached when it goes), frames sent one at a time, the posts the robot made, each post call's arrival
/// (429s included) and the switch that rate-limits the next ones.
/// </summary>
internal abstract class FakeChatServer : IAsyncDisposable
{
    private readonly Channel<JsonObject> _posts = Channel.CreateUnbounded<JsonObject>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private WebApplication? _app;
    private WebSocket? _socket;
    private TaskCompletionSource _connected = NewConnected();

    /// <summary>The loopback address the fake listens on (ends with '/').</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>WebSocket connections accepted so far.</summary>
    public int Connections;

    /// <summary>How many of the next post calls get 429.</summary>
    public int RateLimitNext;

    /// <summary>When each post call arrived, 429s included, and its HTTP status.</summary>
    public ConcurrentQueue<(DateTimeOffset At, int Status)> PostAttempts { get; } = new();

    /// <summary>Guards the live socket; a fake that keeps state which must change with it (an event log) locks it too.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Waits until the robot holds a connection the protocol calls ready (after <see cref="Attach"/>'s task was completed).</summary>
    public Task WaitConnectedAsync()
    {
        lock (Gate)
        {
            return _connected.Task.WaitAsync(AdapterHarness.Wait);
        }
    }

    /// <summary>Cuts the robot's connection without a word (a network failure).</summary>
    public void Drop() => Current().Abort();

    /// <summary>The next post the robot made, in order; fails after <see cref="AdapterHarness.Wait"/>.</summary>
    public async Task<JsonObject> NextPostAsync() => await _posts.Reader.ReadAsync().AsTask().WaitAsync(AdapterHarness.Wait);

    /// <summary>True when no post arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> NoPostWithinAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            await _posts.Reader.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _sendLock.Dispose();
    }

    /// <summary>Starts <paramref name="fake"/> on Kestrel with the endpoints its <see cref="Map"/> declares.</summary>
    protected static async Task<T> StartAsync<T>(T fake)
        where T : FakeChatServer
    {
        var (app, url) = await AdapterHarness.StartKestrelAsync(fake.Map);
        fake._app = app;
        fake.BaseUrl = url;
        return fake;
    }

    /// <summary>Declares the platform's HTTP and WebSocket endpoints.</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>
    /// Makes <paramref name="socket"/> the robot's connection; returns the task source to complete once the protocol's
    /// greeting is done (then <see cref="WaitConnectedAsync"/> returns).
    /// </summary>
    protected TaskCompletionSource Attach(WebSocket socket)
    {
        lock (Gate)
        {
            _socket = socket;
            return _connected;
        }
    }

    /// <summary>Forgets <paramref name="socket"/> once it is gone, unless a newer connection replaced it already.</summary>
    protected void Detach(WebSocket socket)
    {
        lock (Gate)
        {
            if (_socket == socket)
            {
                _socket = null;
                _connected = NewConnected();
            }
        }
    }

    /// <summary>The robot's live connection, or null.</summary>
    protected WebSocket? CurrentOrNull()
    {
        lock (Gate)
        {
            return _socket;
        }
    }

    /// <summary>The robot's live connection; throws when there is none (a test that needs one must wait for it).</summary>
    protected WebSocket Current() => CurrentOrNull() ?? throw new InvalidOperationException("The robot holds no connection to the fake server.");

    /// <summary>
    /// Sends one text frame; frames never interleave. False when the socket went meanwhile: the frame is lost, as it
    /// would be on the wire (the fakes keep what a platform would redeliver).
    /// </summary>
    protected async Task<bool> SendAsync(WebSocket socket, JsonNode message)
    {
        await _sendLock.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
            return true;
        }
        catch (WebSocketException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads frames (one message each, as the robot sends them) until the socket closes or drops.</summary>
    protected static async Task ReceiveUntilClosedAsync(WebSocket socket, Func<JsonNode, Task>? onFrame = null)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (onFrame is not null)
                {
                    await onFrame(JsonNode.Parse(buffer.AsSpan(0, result.Count))!);
                }
            }
        }
        catch (WebSocketException)
        {
            // Dropped.
        }
    }

    /// <summary>Reads one frame (a handshake that must come first).</summary>
    protected static async Task<JsonNode> ReceiveOneAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        var first = await socket.ReceiveAsync(buffer, CancellationToken.None);
        return JsonNode.Parse(buffer.AsSpan(0, first.Count))!;
    }

    /// <summary>
    /// Notes a post call's arrival; true (and noted as 429) while <see cref="RateLimitNext"/> says to refuse it. The
    /// caller answers the 429 in its platform's words.
    /// </summary>
    protected bool RateLimitPost(int okStatus)
    {
        if (Interlocked.Decrement(ref RateLimitNext) >= 0)
        {
            PostAttempts.Enqueue((TimeProvider.System.GetUtcNow(), 429));
            return true;
        }

        PostAttempts.Enqueue((TimeProvider.System.GetUtcNow(), okStatus));
        return false;
    }

    /// <summary>True (once per unit) while <paramref name="counter"/> says to refuse the next calls of a kind.</summary>
    protected static bool TakeOne(ref int counter) => Interlocked.Decrement(ref counter) >= 0;

    /// <summary>Hands a post the robot made to <see cref="NextPostAsync"/>.</summary>
    protected ValueTask RecordPostAsync(JsonObject post) => _posts.Writer.WriteAsync(post);

    private static TaskCompletionSource NewConnected() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
