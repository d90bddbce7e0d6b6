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
    /// Sends <paramref name="message"/> to <paramref name="user"/> alone, in the platform's direct conversation with
    /// the robot (opened if need be, its id remembered per user), queued behind what is already waiting. True once the
    /// conversation is open and the message queued for it; false when it cannot be opened (an unknown or unreachable
    /// user, a refusal, or no answer within <see cref="ChatConnectionOptions.DirectMessageTimeout"/>): then nothing is
    /// sent, later or anywhere else.
    /// </summary>
    public abstract Task<bool> SendDirectAsync(ChatUser user, OutgoingMessage message, CancellationToken cancellationToken);

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

    /// <summary>Logs why a direct conversation could not be opened, naming the user id, never the message.</summary>
    private protected void LogDirectFailed(string userId, string reason) => LogDirectNotOpened(_logger, Platform, userId, reason);

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

    [LoggerMessage(EventId = 3311, Level = LogLevel.Warning, Message = "{Platform}: could not send a direct message to user {User} (the robot points them to the web console): {Reason}")]
    private static partial void LogDirectNotOpened(ILogger logger, string platform, string user, string reason);

    [LoggerMessage(EventId = 3309, Level = LogLevel.Error, Message = "{Platform}: handling a line from {Room} failed")]
    private static partial void LogHandleFailed(ILogger logger, Exception exception, string platform, string room);
}

/// <summary>A connected adapter whose messages render into posts of type <typeparamref name="TPost"/>.</summary>
public abstract class ChatAdapter<TPost> : ChatAdapter
    where TPost : class
{
    /// <summary>The most users whose direct conversation id is remembered.</summary>
    private const int MaxDirectChannels = 10_000;

    private readonly ChatConnectionOptions _options;
    private readonly ChatOutbox<Queued> _outbox;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _directChannels = new(StringComparer.Ordinal);

    protected ChatAdapter(string platform, ChatConnectionOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger logger)
        : base(platform, options, scopes, time, logger)
    {
        _options = options;
        _outbox = new ChatOutbox<Queued>(options.MaxQueuedMessages);
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

        Add(Render(room, message).Select(p => new Queued(room, p, null)).ToList());
        return true;
    }

    public override async Task<bool> SendDirectAsync(ChatUser user, OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(message);
        if (CannotOpenDirect(user) is { } reason)
        {
            LogDirectFailed(user.Id, reason);
            return false;
        }

        // A direct message stands alone: never in a thread of the room the command came from.
        var direct = new DirectMessage(user, message with { ThreadId = null });
        if (_directChannels.TryGetValue(user.Id, out var known))
        {
            direct.Opened(DirectRoom(known, user), Render(DirectRoom(known, user), direct.Message).ToList());
        }

        Add([new Queued(null, null, direct)]);
        try
        {
            // Waits for the conversation to be opened in the queue's turn (behind what was queued before, through
            // 429s and reconnects), but not for ever: the robot has a person waiting for an answer.
            var opened = await direct.Result.WaitAsync(_options.DirectMessageTimeout, Time, cancellationToken).ConfigureAwait(false);
            if (opened)
            {
                message.Delivered?.Invoke();
            }

            return opened;
        }
        catch (TimeoutException)
        {
            if (direct.Withdraw())
            {
                LogDirectFailed(user.Id, $"the conversation was not opened within {_options.DirectMessageTimeout.TotalSeconds:0.#} s; the message was withdrawn");
                return false;
            }

            return await direct.Result.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            direct.Withdraw();
            throw;
        }
    }

    /// <summary>True when <paramref name="roomId"/> looks like this platform's room id (others are not ours to send to).</summary>
    protected abstract bool IsValidRoomId(string roomId);

    /// <summary>The posts that carry <paramref name="message"/> on this platform, in order.</summary>
    protected abstract IEnumerable<TPost> Render(ChatRoom room, OutgoingMessage message);

    /// <summary>Sends one post; throws <see cref="ChatApiException"/> (or <see cref="ChatRateLimitedException"/>) when the platform did not take it.</summary>
    protected abstract Task PostAsync(ChatRoom room, TPost post, CancellationToken cancellationToken);

    /// <summary>Why no direct conversation can be opened with <paramref name="user"/> on this platform (checked before queuing), or null.</summary>
    protected abstract string? CannotOpenDirect(ChatUser user);

    /// <summary>
    /// Opens (or finds) the direct conversation between the robot and <paramref name="user"/> and returns its id;
    /// throws <see cref="ChatApiException"/> (or <see cref="ChatRateLimitedException"/>) when the platform did not.
    /// </summary>
    protected abstract Task<string> OpenDirectAsync(ChatUser user, CancellationToken cancellationToken);

    private protected override async Task SendLoopAsync(CancellationToken session)
    {
        var gate = new IrcFloodGate(_options.MessageBurst, _options.MessageDelay, Time);
        var failures = 0;
        while (true)
        {
            var (sequence, queued) = await _outbox.PeekAsync(session).ConfigureAwait(false);
            if (queued.Direct is { Room: null, IsSettled: true })
            {
                // Withdrawn (the robot stopped waiting) before its conversation was opened: nothing to send.
                _outbox.Commit(sequence);
                continue;
            }

            await gate.WaitAsync(session).ConfigureAwait(false);
            try
            {
                // The post itself runs to its end even when the session drops meanwhile (only stopping cancels it):
                // abandoning a request half-way is how a message ends up sent but not committed, then sent again.
                if (queued.Direct is { } direct)
                {
                    await DeliverDirectAsync(direct, gate, session).ConfigureAwait(false);
                }
                else
                {
                    await PostAsync(queued.Room!, queued.Post!, Stopping).ConfigureAwait(false);
                }

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
                if (queued.Direct is { Room: null } refused)
                {
                    // Opening the conversation was refused: the message goes nowhere, and the robot hears so.
                    refused.Fail();
                    LogDirectFailed(refused.User.Id, ex.Message);
                }
                else
                {
                    if (queued.Direct is { } direct)
                    {
                        // A remembered conversation that no longer takes posts: open it afresh next time.
                        _directChannels.TryRemove(direct.User.Id, out _);
                    }

                    LogRefused((queued.Room ?? queued.Direct!.Room)!.Name, ex.Message);
                }

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

    /// <summary>
    /// Opens the conversation if it is not open yet, then sends the posts not sent yet. Where it stands is kept on
    /// <paramref name="direct"/>, so a retry after a 429 or a failure neither opens twice nor repeats a post.
    /// </summary>
    private async Task DeliverDirectAsync(DirectMessage direct, IrcFloodGate gate, CancellationToken session)
    {
        if (direct.Room is null)
        {
            var channel = await OpenDirectAsync(direct.User, Stopping).ConfigureAwait(false);
            if (!IsValidRoomId(channel))
            {
                throw new ChatApiException($"{Platform} answered the opening of a direct conversation without a valid conversation id.", transient: false);
            }

            var room = DirectRoom(channel, direct.User);
            if (_directChannels.Count < MaxDirectChannels || _directChannels.ContainsKey(direct.User.Id))
            {
                _directChannels[direct.User.Id] = channel;
            }

            if (!direct.Opened(room, Render(room, direct.Message).ToList()))
            {
                // The robot stopped waiting meanwhile and told the person to use the web console: send nothing.
                return;
            }
        }

        for (var first = true; direct.Next < direct.Posts!.Count; first = false)
        {
            if (!first)
            {
                await gate.WaitAsync(session).ConfigureAwait(false);
            }

            await PostAsync(direct.Room!, direct.Posts[direct.Next], Stopping).ConfigureAwait(false);
            direct.Next++;
        }
    }

    private void Add(List<Queued> posts)
    {
        var dropped = _outbox.Enqueue(posts, old => old.Direct?.Fail());
        if (dropped > 0)
        {
            LogQueueFull(dropped);
        }
    }

    private static ChatRoom DirectRoom(string channel, ChatUser user) => new(channel, $"the direct conversation with {user.Id}", IsDirect: true);

    /// <summary>A room post, or a direct message (<see cref="Direct"/>) whose conversation may still have to be opened.</summary>
    private readonly record struct Queued(ChatRoom? Room, TPost? Post, DirectMessage? Direct);

    /// <summary>
    /// A direct message in the queue: whom to, what, and how far it got. <see cref="Result"/> tells the waiting
    /// robot whether the conversation opened; once it says false the message is never sent.
    /// </summary>
    private sealed class DirectMessage(ChatUser user, OutgoingMessage message)
    {
        private readonly TaskCompletionSource<bool> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChatUser User { get; } = user;

        public OutgoingMessage Message { get; } = message;

        public Task<bool> Result => _result.Task;

        public bool IsSettled => _result.Task.IsCompleted;

        /// <summary>The open conversation (null until opened).</summary>
        public ChatRoom? Room { get; private set; }

        public List<TPost>? Posts { get; private set; }

        /// <summary>How many of <see cref="Posts"/> were sent.</summary>
        public int Next { get; set; }

        /// <summary>The conversation is open: true when the robot still waited, so the message may go.</summary>
        public bool Opened(ChatRoom room, List<TPost> posts)
        {
            if (!_result.TrySetResult(true))
            {
                return false;
            }

            Room = room;
            Posts = posts;
            return true;
        }

        /// <summary>The conversation could not be opened, or the message was dropped from a full queue.</summary>
        public void Fail() => _result.TrySetResult(false);

        /// <summary>The robot stops waiting; true when that came first (the message will not be sent).</summary>
        public bool Withdraw() => _result.TrySetResult(false);
    }
}
