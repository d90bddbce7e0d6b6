using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpsRobot.Chat.Irc;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;

namespace OpsRobot.Chat.Connected;

/// <summary>Where a connected adapter stands.</summary>
public enum ChatAdapterState
{
    Stopped,
    Connecting,
    Ready,
    Reconnecting,
}

/// <summary>
/// What every connected chat adapter (Slack, Mattermost, Rocket.Chat) shares: a connection kept up with
/// exponential backoff and jitter, a log line per state change, lines for the robot handled in order per room and
/// once each, and a send queue that survives reconnects, paced, honouring 429s. A platform supplies the session
/// (connect, handshake, read events), the rendering of a message into posts, and the call that sends one post.
/// </summary>
public abstract partial class ChatAdapter : BackgroundService
{
    private readonly ChatConnectionOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Task> _roomChains = new(StringComparer.Ordinal);
    private readonly RecentIds _handled = new(4096);
    private volatile ChatAdapterState _state = ChatAdapterState.Stopped;
    private volatile string? _lastError;
    private int _attempt;
    private CancellationToken _stopping;

    protected ChatAdapter(string platform, ChatConnectionOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Platform = platform;
        _options = options;
        _scopes = scopes;
        Time = time;
        _logger = logger;
    }

    /// <summary>The platform name in <see cref="IncomingMessage.Platform"/> and <see cref="IChatReplySender"/>.</summary>
    public string Platform { get; }

    public ChatAdapterState State => _state;

    /// <summary>Failed connection attempts since the last successful one.</summary>
    public int FailedAttempts => Volatile.Read(ref _attempt);

    /// <summary>Why the last connection ended or the last post failed (no secrets), for status.</summary>
    public string? LastError => _lastError;

    /// <summary>Posts waiting to be sent.</summary>
    public abstract int QueuedPosts { get; }

    /// <summary>One line for <c>!status</c>: server, account, rooms. Never a token.</summary>
    public abstract string Describe();

    protected TimeProvider Time { get; }

    protected CancellationToken Stopping => _stopping;

    /// <summary>Queues <paramref name="message"/> for <paramref name="room"/>; false when the room cannot be written to on this platform.</summary>
    public abstract bool Enqueue(ChatRoom room, OutgoingMessage message);

    /// <summary>
    /// One connection, from connect to its loss. Call <paramref name="ready"/> once the platform accepted the robot
    /// (the send queue starts then). Return normally when the server asked for a reconnect (it is made at once);
    /// throw when the connection failed (the next attempt backs off).
    /// </summary>
    protected abstract Task RunSessionAsync(Action ready, CancellationToken cancellationToken);

    /// <summary>Sends queued posts while the session is up; the implementation lives in <see cref="ChatAdapter{TPost}"/>.</summary>
    private protected abstract Task SendLoopAsync(CancellationToken session);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wasReady = false;
            var requested = false;
            using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var readySignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sender = Task.Run(async () =>
            {
                try
                {
                    await readySignal.Task.WaitAsync(session.Token).ConfigureAwait(false);
                    await SendLoopAsync(session.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (session.IsCancellationRequested)
                {
                }
#pragma warning disable CA1031 // A sender that broke must not leave the queue stuck behind a live connection: start over.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _lastError = ex.Message;
                    LogSenderFailed(_logger, ex, Platform);
                    await session.CancelAsync().ConfigureAwait(false);
                }
            }, CancellationToken.None);
            SetState(ChatAdapterState.Connecting);
            try
            {
                await RunSessionAsync(
                    () =>
                    {
                        wasReady = true;
                        Volatile.Write(ref _attempt, 0);
                        _lastError = null;
                        SetState(ChatAdapterState.Ready);
                        readySignal.TrySetResult();
                    },
                    session.Token).ConfigureAwait(false);
                requested = true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // Whatever ended the connection, the adapter reconnects; it must not take the host down.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _lastError = ex.Message;
                LogDisconnected(_logger, Platform, ex.GetType().Name, ex.Message);
            }
            finally
            {
                await session.CancelAsync().ConfigureAwait(false);
                await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (wasReady)
            {
                Volatile.Write(ref _attempt, 0);
            }

            TimeSpan delay;
            if (requested)
            {
                // The server asked for a new connection (Slack's refresh, a rotated socket): reconnect at once, with
                // a little jitter so a fleet does not come back in step.
                delay = TimeSpan.FromMilliseconds(100 + (Random.Shared.NextDouble() * 400));
            }
            else
            {
                var attempt = Interlocked.Increment(ref _attempt);
                delay = IrcAdapter.Backoff(attempt, _options.ReconnectMinDelay, _options.ReconnectMaxDelay, Random.Shared.NextDouble());
            }

            SetState(ChatAdapterState.Reconnecting);
            LogReconnecting(_logger, Platform, delay.TotalMilliseconds, FailedAttempts);
            try
            {
                await Task.Delay(delay, Time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        SetState(ChatAdapterState.Stopped);
    }

    /// <summary>
    /// Hands a line to the robot, off the read loop, in order per room, once per <paramref name="messageId"/> (a
    /// redelivered or duplicated event is dropped). The answer is queued for the same room.
    /// </summary>
    /// <param name="incoming">The line.</param>
    /// <param name="messageId">The platform's id of the message (or of the button press).</param>
    /// <param name="prepare">
    /// An optional step run in the room's turn before the robot sees the line (looking up the sender's name), so a
    /// slow lookup cannot let a later line overtake an earlier one.
    /// </param>
    protected void Dispatch(IncomingMessage incoming, string messageId, Func<IncomingMessage, Task<IncomingMessage>>? prepare = null)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        if (!_handled.Add(messageId))
        {
            LogDuplicate(_logger, Platform, messageId);
            return;
        }

        var roomKey = incoming.Room.Id;
        lock (_gate)
        {
            var previous = _roomChains.GetValueOrDefault(roomKey) ?? Task.CompletedTask;
            Task next = null!;
            next = Task.Run(async () =>
            {
                await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await HandleAsync(incoming, prepare).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_roomChains.TryGetValue(roomKey, out var last) && last == next)
                    {
                        _roomChains.Remove(roomKey);
                    }
                }
            }, CancellationToken.None);
            _roomChains[roomKey] = next;
        }
    }

    /// <summary>Logs a dropped post (the platform refused it for good), naming the room, never the text.</summary>
    private protected void LogRefused(string room, string reason) => LogPostRefused(_logger, Platform, room, reason);

    private protected void LogRateLimit(double seconds) => LogRateLimited(_logger, Platform, seconds);

    private protected void LogSendRetry(string reason, double seconds)
    {
        _lastError = reason;
        LogSendFailed(_logger, Platform, reason, seconds);
    }

    private protected void LogQueueFull(int dropped) => LogDropped(_logger, Platform, dropped, _options.MaxQueuedMessages);

    /// <summary>Logs a WebSocket message that was not the JSON the platform documents.</summary>
    protected void OnMalformed(int bytes) => LogMalformed(_logger, Platform, bytes);

    protected static bool IsConnectionFailure(Exception ex) =>
        ex is WebSocketException or IOException or HttpRequestException or TimeoutException or ChatApiException or InvalidDataException;

    private async Task HandleAsync(IncomingMessage incoming, Func<IncomingMessage, Task<IncomingMessage>>? prepare)
    {
        try
        {
            if (prepare is not null)
            {
                incoming = await prepare(incoming).ConfigureAwait(false);
            }

            await using var scope = _scopes.CreateAsyncScope();
            var robot = scope.ServiceProvider.GetRequiredService<Robot>();
            var answer = await robot.HandleAsync(incoming, _stopping).ConfigureAwait(false);
            if (answer is not null && (!string.IsNullOrWhiteSpace(answer.Text) || answer.Buttons.Count > 0 || answer.Attachments.Count > 0))
            {
                Enqueue(incoming.Room, answer with { ThreadId = answer.ThreadId ?? incoming.ThreadId });
            }

            // Queued in order: what follows this answer (a result) may be queued now.
            answer?.Delivered?.Invoke();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // One failing line must not take the adapter down; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandleFailed(_logger, ex, Platform, incoming.Room.Name);
        }
    }

    private void SetState(ChatAdapterState state)
    {
        if (_state != state)
        {
            _state = state;
            LogState(_logger, Platform, state, Describe());
        }
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "{Platform}: state {State} ({Description})")]
    private static partial void LogState(ILogger logger, string platform, ChatAdapterState state, string description);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "{Platform}: disconnected ({Kind}): {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string platform, string kind, string reason);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "{Platform}: reconnecting in {DelayMs:0} ms (failed attempts: {Attempt})")]
    private static partial void LogReconnecting(ILogger logger, string platform, double delayMs, int attempt);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "{Platform}: rate limited; waiting {Seconds:0.#} s before the next post")]
    private static partial void LogRateLimited(ILogger logger, string platform, double seconds);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "{Platform}: sending failed ({Reason}); retrying in {Seconds:0.#} s")]
    private static partial void LogSendFailed(ILogger logger, string platform, string reason, double seconds);

    [LoggerMessage(EventId = 3305, Level = LogLevel.Error, Message = "{Platform}: the server refused a post to {Room} for good, dropped it: {Reason}")]
    private static partial void LogPostRefused(ILogger logger, string platform, string room, string reason);

    [LoggerMessage(EventId = 3306, Level = LogLevel.Warning, Message = "{Platform}: the send queue is full ({Capacity}); dropped the {Count} oldest")]
    private static partial void LogDropped(ILogger logger, string platform, int count, int capacity);

    [LoggerMessage(EventId = 3307, Level = LogLevel.Debug, Message = "{Platform}: ignored a malformed message of {Bytes} bytes")]
    private static partial void LogMalformed(ILogger logger, string platform, int bytes);

    [LoggerMessage(EventId = 3308, Level = LogLevel.Debug, Message = "{Platform}: message {Id} was already handled; ignored the repeat")]
    private static partial void LogDuplicate(ILogger logger, string platform, string id);

    [LoggerMessage(EventId = 3310, Level = LogLevel.Error, Message = "{Platform}: sending stopped unexpectedly; reconnecting")]
    private static partial void LogSenderFailed(ILogger logger, Exception exception, string platform);

    [LoggerMessage(EventId = 3309, Level = LogLevel.Error, Message = "{Platform}: handling a line from {Room} failed")]
    private static partial void LogHandleFailed(ILogger logger, Exception exception, string platform, string room);
}

/// <summary>A connected adapter whose messages render into posts of type <typeparamref name="TPost"/>.</summary>
public abstract class ChatAdapter<TPost> : ChatAdapter
{
    private readonly ChatConnectionOptions _options;
    private readonly ChatOutbox<(ChatRoom Room, TPost Post)> _outbox;

    protected ChatAdapter(string platform, ChatConnectionOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger logger)
        : base(platform, options, scopes, time, logger)
    {
        _options = options;
        _outbox = new ChatOutbox<(ChatRoom, TPost)>(options.MaxQueuedMessages);
    }

    public override int QueuedPosts => _outbox.Count;

    public override bool Enqueue(ChatRoom room, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(message);
        if (!IsValidRoomId(room.Id))
        {
            return false;
        }

        var dropped = _outbox.Enqueue(Render(room, message).Select(p => (room, p)).ToList());
        if (dropped > 0)
        {
            LogQueueFull(dropped);
        }

        return true;
    }

    /// <summary>True when <paramref name="roomId"/> looks like this platform's room id (others are not ours to send to).</summary>
    protected abstract bool IsValidRoomId(string roomId);

    /// <summary>The posts that carry <paramref name="message"/> on this platform, in order.</summary>
    protected abstract IEnumerable<TPost> Render(ChatRoom room, OutgoingMessage message);

    /// <summary>Sends one post; throws <see cref="ChatApiException"/> (or <see cref="ChatRateLimitedException"/>) when the platform did not take it.</summary>
    protected abstract Task PostAsync(ChatRoom room, TPost post, CancellationToken cancellationToken);

    private protected override async Task SendLoopAsync(CancellationToken session)
    {
        var gate = new IrcFloodGate(_options.MessageBurst, _options.MessageDelay, Time);
        var failures = 0;
        while (true)
        {
            var (sequence, (room, post)) = await _outbox.PeekAsync(session).ConfigureAwait(false);
            await gate.WaitAsync(session).ConfigureAwait(false);
            try
            {
                // The post itself runs to its end even when the session drops meanwhile (only stopping cancels it):
                // abandoning a request half-way is how a message ends up sent but not committed, then sent again.
                await PostAsync(room, post, Stopping).ConfigureAwait(false);
                _outbox.Commit(sequence);
                failures = 0;
            }
            catch (ChatRateLimitedException ex)
            {
                LogRateLimit(ex.RetryAfter.TotalSeconds);
                await Task.Delay(ex.RetryAfter, Time, session).ConfigureAwait(false);
            }
            catch (ChatApiException ex) when (!ex.Transient)
            {
                LogRefused(room.Name, ex.Message);
                _outbox.Commit(sequence);
            }
            catch (ChatApiException ex)
            {
                failures++;
                var wait = IrcAdapter.Backoff(failures, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), Random.Shared.NextDouble());
                LogSendRetry(ex.Message, wait.TotalSeconds);
                await Task.Delay(wait, Time, session).ConfigureAwait(false);
            }
        }
    }
}
