using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;

namespace OpsRobot.Chat.Irc;

/// <summary>Where the IRC connection stands.</summary>
public enum IrcState
{
    Stopped,
    Connecting,
    Registering,
    Joining,
    Ready,
    Reconnecting,
}

/// <summary>
/// The IRC chat adapter: one connection to one server, kept up with exponential backoff. Lines said to the robot
/// (in a channel with the prefix or its name, or privately) go to <see cref="Robot.HandleAsync(OpsRobot.Core.Chat.IncomingMessage, CancellationToken)"/>; answers and
/// later messages go out through a bounded queue with flood control that survives reconnects.
/// </summary>
public sealed partial class IrcAdapter : BackgroundService
{
    /// <summary>The platform name in <see cref="IncomingMessage.Platform"/> and <see cref="IChatReplySender"/>.</summary>
    public const string Platform = "irc";

    private readonly IrcOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<IrcAdapter> _logger;
    private readonly IrcOutbox _outbox;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Task> _roomChains = new(StringComparer.OrdinalIgnoreCase);
    private CancellationToken _stopping;
    private volatile IrcState _state = IrcState.Stopped;
    private volatile string? _nick;
    private int _attempt;

    public IrcAdapter(IOptions<IrcOptions> options, IServiceScopeFactory scopes, TimeProvider time, ILogger<IrcAdapter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _scopes = scopes;
        _time = time;
        _logger = logger;
        _outbox = new IrcOutbox(_options.MaxQueuedLines);
    }

    public IrcState State => _state;

    /// <summary>The nick the server accepted for the robot (null before the first registration).</summary>
    public string? CurrentNick => _nick;

    /// <summary>Failed connection attempts since the last successful registration.</summary>
    public int FailedAttempts => Volatile.Read(ref _attempt);

    internal int QueuedLines => _outbox.Count;

    /// <summary>
    /// Queues <paramref name="markdown"/> for <paramref name="target"/> (a channel or a nick), rendered as plain IRC
    /// lines. Returns false when the target could not be written on an IRC line.
    /// </summary>
    public bool Enqueue(string target, string markdown)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(markdown);
        if (!IrcProtocol.IsValidTarget(target))
        {
            LogBadTarget(_logger, target.Length > 64 ? target[..64] : target);
            return false;
        }

        var lines = IrcText.ToLines(markdown, _options.MaxLineBytes).Select(l => IrcMessage.Format("PRIVMSG", target, l)).ToList();
        var dropped = _outbox.Enqueue(lines);
        if (dropped > 0)
        {
            LogDropped(_logger, dropped, _options.MaxQueuedLines);
        }

        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            var registered = false;
            try
            {
                using var session = new Session(this);
                try
                {
                    await session.RunAsync(stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    registered = session.Registered;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or TimeoutException or IrcSessionException or ObjectDisposedException or OperationCanceledException)
            {
                LogDisconnected(_logger, _options.Host, _options.Port, ex.Message);
            }

            if (registered)
            {
                Volatile.Write(ref _attempt, 0);
            }

            var attempt = Interlocked.Increment(ref _attempt);
            var delay = Backoff(attempt, _options.ReconnectMinDelay, _options.ReconnectMaxDelay, Random.Shared.NextDouble());
            SetState(IrcState.Reconnecting);
            LogReconnecting(_logger, delay.TotalMilliseconds, attempt);
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        SetState(IrcState.Stopped);
    }

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/> (1-based): the minimum doubled per failure up to the maximum,
    /// then "equal jitter" (half fixed, half random) so robots restarted together do not reconnect in step.
    /// </summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan min, TimeSpan max, double random)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var ceiling = Math.Min(min.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((ceiling / 2) + (ceiling / 2 * Math.Clamp(random, 0, 1)));
    }

    private void SetState(IrcState state)
    {
        if (_state != state)
        {
            _state = state;
            LogState(_logger, state, _nick ?? _options.Nick);
        }
    }

    /// <summary>A PRIVMSG for the robot becomes an <see cref="IncomingMessage"/>, handled off the read loop, in order per room.</summary>
    private void OnPrivmsg(IrcMessage message, string ownNick)
    {
        var from = message.Nick;
        if (from is null || message.Parameters.Count < 2 || IrcProtocol.NickEquals(from, ownNick))
        {
            return;
        }

        var target = message.Param(0);
        var text = message.Param(1);
        if (IrcText.IsCtcp(text))
        {
            LogCtcpIgnored(_logger, from);
            return;
        }

        ChatRoom room;
        if (IrcProtocol.IsChannelName(target))
        {
            room = new ChatRoom(target, target, IsDirect: false);
        }
        else if (IrcProtocol.NickEquals(target, ownNick))
        {
            room = new ChatRoom(from, from, IsDirect: true);
        }
        else
        {
            return;
        }

        var incoming = new IncomingMessage(Platform, room, new ChatUser(from, from), IrcText.StripControls(text), _time.GetUtcNow());
        lock (_gate)
        {
            var previous = _roomChains.GetValueOrDefault(room.Id) ?? Task.CompletedTask;
            Task next = null!;
            next = Task.Run(async () =>
            {
                await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await HandleAsync(incoming).ConfigureAwait(false);
                lock (_gate)
                {
                    // Forget a finished chain so the dictionary holds only busy rooms.
                    if (_roomChains.TryGetValue(room.Id, out var last) && last == next)
                    {
                        _roomChains.Remove(room.Id);
                    }
                }
            }, CancellationToken.None);
            _roomChains[room.Id] = next;
        }
    }

    private async Task HandleAsync(IncomingMessage incoming)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var robot = scope.ServiceProvider.GetRequiredService<Robot>();
            var answer = await robot.HandleAsync(incoming, _stopping).ConfigureAwait(false);
            var text = answer is null ? null : Rendering.MessageFallback.Markdown(answer);
            if (!string.IsNullOrWhiteSpace(text))
            {
                Enqueue(incoming.Room.Id, text);
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
            LogHandleFailed(_logger, ex, incoming.Room.Name);
        }
    }

    /// <summary>One connection, from TCP connect to its loss.</summary>
    private sealed class Session(IrcAdapter owner) : IDisposable
    {
        private readonly IrcOptions _o = owner._options;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly HashSet<string> _joined = new(StringComparer.OrdinalIgnoreCase);
        private readonly TaskCompletionSource _welcomed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _capabilities = new();
        private Stream? _stream;
        private string _nick = owner._options.Nick;
        private int _nickTry;
        private long _lastReceived;
        private CancellationToken _token;

        public bool Registered { get; private set; }

        public void Dispose() => _writeLock.Dispose();

        public async Task RunAsync(CancellationToken stoppingToken)
        {
            using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _token = sessionCts.Token;
            owner.SetState(IrcState.Connecting);
            LogConnecting(owner._logger, _o.Host, _o.Port, _o.UseTls);
            using var tcp = new TcpClient();
            using (var connectCts = CancellationTokenSource.CreateLinkedTokenSource(_token))
            {
                connectCts.CancelAfter(_o.ConnectTimeout);
                try
                {
                    await tcp.ConnectAsync(_o.Host, _o.Port, connectCts.Token).ConfigureAwait(false);
                    tcp.NoDelay = true;
                    _stream = tcp.GetStream();
                    if (_o.UseTls)
                    {
                        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
                        _stream = tls;
                        await tls.AuthenticateAsClientAsync(TlsOptions(), connectCts.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException ex) when (!stoppingToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"Connecting to {_o.Host}:{_o.Port} took longer than {_o.ConnectTimeout}.", ex);
                }
            }

            await using var stream = _stream;
            owner.SetState(IrcState.Registering);
            _lastReceived = owner._time.GetTimestamp();
            await RegisterAsync().ConfigureAwait(false);

            var reader = ReadLoopAsync(new IrcLineReader(stream));
            var writer = WriteLoopAsync();
            var watch = WatchAsync();
            var first = await Task.WhenAny(reader, writer, watch).ConfigureAwait(false);
            await sessionCts.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(reader, writer, watch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            stoppingToken.ThrowIfCancellationRequested();
            await first.ConfigureAwait(false); // the cause of the end, as an exception
            throw new IrcSessionException("The connection ended.");
        }

        /// <summary>
        /// The system's roots, or only the configured certificates as roots; the name is checked either way and no
        /// validation callback ever overrides the result.
        /// </summary>
        private SslClientAuthenticationOptions TlsOptions()
        {
            var options = new SslClientAuthenticationOptions { TargetHost = _o.Host };
            if (_o.TlsTrustedCertificatesFile is not null)
            {
                var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
                policy.CustomTrustStore.AddRange(_o.LoadTrustedCertificates());
                options.CertificateChainPolicy = policy;
            }

            return options;
        }

        private async Task RegisterAsync()
        {
            if (!string.IsNullOrEmpty(_o.Password))
            {
                await WriteAsync(IrcMessage.Format("PASS", _o.Password)).ConfigureAwait(false);
            }

            if (!string.IsNullOrEmpty(_o.SaslUser))
            {
                await WriteAsync(IrcMessage.Format("CAP", "LS", "302")).ConfigureAwait(false);
            }

            await WriteAsync(IrcMessage.Format("NICK", _nick)).ConfigureAwait(false);
            var user = string.IsNullOrWhiteSpace(_o.UserName) ? _o.Nick : _o.UserName.Trim();
            await WriteAsync(IrcMessage.Format("USER", user.Replace(' ', '_'), "0", "*", string.IsNullOrWhiteSpace(_o.RealName) ? "OpsRobot" : _o.RealName)).ConfigureAwait(false);
        }

        private async Task ReadLoopAsync(IrcLineReader reader)
        {
            while (true)
            {
                var line = await reader.ReadLineAsync(_token).ConfigureAwait(false)
                    ?? throw new IrcSessionException("The server closed the connection.");
                _lastReceived = owner._time.GetTimestamp();
                if (line.Oversized)
                {
                    LogOversized(owner._logger);
                    continue;
                }

                var message = IrcMessage.TryParse(line.Text);
                if (message is null)
                {
                    if (line.Text.Length > 0)
                    {
                        LogMalformed(owner._logger, line.Text.Length > 80 ? line.Text[..80] : line.Text);
                    }

                    continue;
                }

                await OnMessageAsync(message).ConfigureAwait(false);
            }
        }

        private async Task OnMessageAsync(IrcMessage m)
        {
            switch (m.Command)
            {
                case "PING":
                    await WriteAsync(IrcMessage.Format("PONG", m.Parameters.Count > 0 ? m.Param(0) : _o.Host)).ConfigureAwait(false);
                    break;
                case "001":
                    _nick = m.Parameters.Count > 0 ? m.Param(0) : _nick;
                    Registered = true;
                    owner._nick = _nick;
                    LogRegistered(owner._logger, _o.Host, _nick);
                    Volatile.Write(ref owner._attempt, 0);
                    _welcomed.TrySetResult();
                    if (!string.IsNullOrEmpty(_o.NickServPassword))
                    {
                        await WriteAsync(IrcMessage.Format("PRIVMSG", "NickServ", "IDENTIFY " + _o.NickServPassword)).ConfigureAwait(false);
                        LogNickServ(owner._logger);
                    }

                    owner.SetState(IrcState.Joining);
                    foreach (var channel in _o.Channels)
                    {
                        await WriteAsync(IrcMessage.Format("JOIN", channel)).ConfigureAwait(false);
                    }

                    CheckReady();
                    break;
                case "432" or "433" or "436" when !Registered:
                    _nick = NextNick();
                    LogNickInUse(owner._logger, m.Param(1), _nick);
                    await WriteAsync(IrcMessage.Format("NICK", _nick)).ConfigureAwait(false);
                    break;
                case "NICK" when IrcProtocol.NickEquals(m.Nick, _nick) && m.Parameters.Count > 0:
                    _nick = m.Param(0);
                    owner._nick = _nick;
                    break;
                case "JOIN" when IrcProtocol.NickEquals(m.Nick, _nick):
                    _joined.Add(m.Param(0));
                    LogJoined(owner._logger, m.Param(0));
                    CheckReady();
                    break;
                case "KICK" when IrcProtocol.NickEquals(m.Param(1), _nick):
                    _joined.Remove(m.Param(0));
                    LogKicked(owner._logger, m.Param(0), m.Nick ?? "?", m.Param(2), _o.RejoinDelay.TotalSeconds);
                    owner.SetState(IrcState.Joining);
                    _ = RejoinAsync(m.Param(0));
                    break;
                case "PART" when IrcProtocol.NickEquals(m.Nick, _nick):
                    _joined.Remove(m.Param(0));
                    break;
                case "PRIVMSG":
                    owner.OnPrivmsg(m, _nick);
                    break;
                case "CAP":
                    await OnCapAsync(m).ConfigureAwait(false);
                    break;
                case "AUTHENTICATE" when m.Param(0) == "+":
                    await SendSaslPlainAsync().ConfigureAwait(false);
                    break;
                case "903":
                    LogSaslSucceeded(owner._logger, _o.SaslUser ?? string.Empty);
                    await WriteAsync("CAP END").ConfigureAwait(false);
                    break;
                case "902" or "904" or "905" or "906":
                    // 908 (the mechanisms the server knows) comes with a 904 and must not end CAP a second time.
                    LogSaslFailed(owner._logger, _o.SaslUser ?? string.Empty, m.Command, m.Parameters[^1]);
                    await WriteAsync("CAP END").ConfigureAwait(false);
                    break;
                case "403" or "405" or "471" or "473" or "474" or "475" or "477":
                    LogCannotJoin(owner._logger, m.Param(1), m.Param(2));
                    break;
                case "ERROR":
                    LogServerError(owner._logger, m.Param(0));
                    break;
                default:
                    break;
            }
        }

        private async Task OnCapAsync(IrcMessage m)
        {
            // CAP <nick> LS [*] :caps — a '*' before the list means more lines follow (CAP 302).
            switch (m.Param(1).ToUpperInvariant())
            {
                case "LS":
                    var more = m.Parameters.Count > 3 && m.Param(2) == "*";
                    _capabilities.Append(m.Parameters[^1]).Append(' ');
                    if (more)
                    {
                        return;
                    }

                    var offered = _capabilities.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Any(c => c.Equals("sasl", StringComparison.OrdinalIgnoreCase) || c.StartsWith("sasl=", StringComparison.OrdinalIgnoreCase));
                    if (offered)
                    {
                        await WriteAsync(IrcMessage.Format("CAP", "REQ", "sasl")).ConfigureAwait(false);
                    }
                    else
                    {
                        LogSaslUnavailable(owner._logger);
                        await WriteAsync("CAP END").ConfigureAwait(false);
                    }

                    break;
                case "ACK" when m.Parameters[^1].Contains("sasl", StringComparison.OrdinalIgnoreCase):
                    await WriteAsync(IrcMessage.Format("AUTHENTICATE", "PLAIN")).ConfigureAwait(false);
                    break;
                case "NAK":
                    LogSaslUnavailable(owner._logger);
                    await WriteAsync("CAP END").ConfigureAwait(false);
                    break;
                default:
                    break;
            }
        }

        private async Task SendSaslPlainAsync()
        {
            foreach (var chunk in SaslPlainChunks(_o.SaslUser ?? string.Empty, _o.SaslPassword ?? string.Empty))
            {
                await WriteAsync(IrcMessage.Format("AUTHENTICATE", chunk)).ConfigureAwait(false);
            }
        }

        private string NextNick()
        {
            _nickTry++;
            if (_nickTry <= _o.AlternativeNicks.Count)
            {
                return _o.AlternativeNicks[_nickTry - 1];
            }

            // Then the nick with digits: the number of tries keeps it unique within this connection.
            var digits = (_nickTry - _o.AlternativeNicks.Count).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stem = _o.Nick.Length + digits.Length > 30 ? _o.Nick[..(30 - digits.Length)] : _o.Nick;
            return stem + digits;
        }

        private void CheckReady()
        {
            if (Registered && _o.Channels.All(_joined.Contains))
            {
                owner.SetState(IrcState.Ready);
                _ready.TrySetResult();
            }
        }

        private async Task RejoinAsync(string channel)
        {
            try
            {
                await Task.Delay(owner._options.RejoinDelay, owner._time, _token).ConfigureAwait(false);
                await WriteAsync(IrcMessage.Format("JOIN", channel)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The connection is gone; the next one joins every configured channel anyway.
            }
        }

        /// <summary>Sends the queue once registered and joined (or after a grace period, so private replies are not held up by one unjoinable channel).</summary>
        private async Task WriteLoopAsync()
        {
            using (var registration = CancellationTokenSource.CreateLinkedTokenSource(_token))
            {
                registration.CancelAfter(_o.RegistrationTimeout);
                try
                {
                    await _welcomed.Task.WaitAsync(registration.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!_token.IsCancellationRequested)
                {
                    throw new TimeoutException($"The server did not welcome the robot within {_o.RegistrationTimeout}.", ex);
                }
            }

            try
            {
                await _ready.Task.WaitAsync(TimeSpan.FromSeconds(10), owner._time, _token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Some channel did not let us in: send anyway, the server tells which lines it refused.
            }

            var gate = new IrcFloodGate(_o.MessageBurst, _o.MessageDelay, owner._time);
            while (true)
            {
                var (sequence, line) = await owner._outbox.PeekAsync(_token).ConfigureAwait(false);
                await gate.WaitAsync(_token).ConfigureAwait(false);
                await WriteAsync(line).ConfigureAwait(false);
                owner._outbox.Commit(sequence);
            }
        }

        /// <summary>Sends a PING after <see cref="IrcOptions.PingInterval"/> of silence, and gives up after twice that.</summary>
        private async Task WatchAsync()
        {
            var pinged = false;
            var step = _o.PingInterval / 4;
            while (true)
            {
                await Task.Delay(step, owner._time, _token).ConfigureAwait(false);
                var silence = owner._time.GetElapsedTime(_lastReceived);
                if (silence >= _o.PingInterval * 2)
                {
                    throw new TimeoutException($"The server has been silent for {silence.TotalSeconds:0} s.");
                }

                if (silence >= _o.PingInterval && !pinged)
                {
                    pinged = true;
                    await WriteAsync(IrcMessage.Format("PING", "opsrobot")).ConfigureAwait(false);
                }
                else if (silence < _o.PingInterval)
                {
                    pinged = false;
                }
            }
        }

        private async Task WriteAsync(string line)
        {
            var bytes = Encoding.UTF8.GetBytes(line + "\r\n");
            await _writeLock.WaitAsync(_token).ConfigureAwait(false);
            try
            {
                await _stream!.WriteAsync(bytes, _token).ConfigureAwait(false);
                await _stream.FlushAsync(_token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    /// <summary>
    /// The SASL PLAIN response (<c>authzid NUL authcid NUL password</c>, base64) cut in 400-byte AUTHENTICATE
    /// chunks; a final <c>+</c> when the last chunk is exactly 400 bytes, as the IRCv3 SASL spec requires.
    /// </summary>
    internal static List<string> SaslPlainChunks(string user, string password)
    {
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}\0{user}\0{password}"));
        var chunks = new List<string>();
        for (var i = 0; i < encoded.Length; i += 400)
        {
            chunks.Add(encoded.Substring(i, Math.Min(400, encoded.Length - i)));
        }

        if (encoded.Length % 400 == 0)
        {
            chunks.Add("+");
        }

        return chunks;
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "IRC: connecting to {Host}:{Port} (TLS {Tls})")]
    private static partial void LogConnecting(ILogger logger, string host, int port, bool tls);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "IRC: registered on {Host} as {Nick}")]
    private static partial void LogRegistered(ILogger logger, string host, string nick);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "IRC: joined {Channel}")]
    private static partial void LogJoined(ILogger logger, string channel);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "IRC: disconnected from {Host}:{Port}: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "IRC: reconnecting in {DelayMs:0} ms (attempt {Attempt})")]
    private static partial void LogReconnecting(ILogger logger, double delayMs, int attempt);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "IRC: nick {Taken} is not available; trying {Nick}")]
    private static partial void LogNickInUse(ILogger logger, string taken, string nick);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "IRC: kicked from {Channel} by {By} ({Reason}); rejoining in {Seconds} s")]
    private static partial void LogKicked(ILogger logger, string channel, string by, string reason, double seconds);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Warning, Message = "IRC: the send queue is full ({Capacity} lines); dropped the {Count} oldest")]
    private static partial void LogDropped(ILogger logger, int count, int capacity);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Debug, Message = "IRC: ignored a malformed line: {Line}")]
    private static partial void LogMalformed(ILogger logger, string line);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Debug, Message = "IRC: refused a line longer than 512 bytes")]
    private static partial void LogOversized(ILogger logger);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "IRC: logged in with SASL PLAIN as {Account}")]
    private static partial void LogSaslSucceeded(ILogger logger, string account);

    [LoggerMessage(EventId = 3119, Level = LogLevel.Error, Message = "IRC: SASL PLAIN login as {Account} failed ({Numeric}: {Reason}); continuing without an account: check SaslUser and SaslPassword")]
    private static partial void LogSaslFailed(ILogger logger, string account, string numeric, string reason);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "IRC: the server does not offer SASL; continuing without it")]
    private static partial void LogSaslUnavailable(ILogger logger);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Warning, Message = "IRC: cannot join {Channel}: {Reason}")]
    private static partial void LogCannotJoin(ILogger logger, string channel, string reason);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "IRC: server error: {Message}")]
    private static partial void LogServerError(ILogger logger, string message);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Error, Message = "IRC: handling a line from {Room} failed")]
    private static partial void LogHandleFailed(ILogger logger, Exception exception, string room);

    [LoggerMessage(EventId = 3115, Level = LogLevel.Debug, Message = "IRC: ignored a CTCP message from {Nick}")]
    private static partial void LogCtcpIgnored(ILogger logger, string nick);

    [LoggerMessage(EventId = 3116, Level = LogLevel.Information, Message = "IRC: sent IDENTIFY to NickServ")]
    private static partial void LogNickServ(ILogger logger);

    [LoggerMessage(EventId = 3117, Level = LogLevel.Warning, Message = "IRC: cannot send to '{Target}': not a channel or nick")]
    private static partial void LogBadTarget(ILogger logger, string target);

    [LoggerMessage(EventId = 3118, Level = LogLevel.Information, Message = "IRC: state {State} (nick {Nick})")]
    private static partial void LogState(ILogger logger, IrcState state, string nick);
}

/// <summary>The connection ended for a protocol reason (closed by the server, no welcome).</summary>
public sealed class IrcSessionException : Exception
{
    public IrcSessionException()
    {
    }

    public IrcSessionException(string message)
        : base(message)
    {
    }

    public IrcSessionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
