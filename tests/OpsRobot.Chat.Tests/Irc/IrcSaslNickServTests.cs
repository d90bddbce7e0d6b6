using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Irc;
using OpsRobot.Chat.Tests.Support;

namespace OpsRobot.Chat.Tests.Irc;

/// <summary>
/// SASL PLAIN (IRCv3 CAP 302 + sasl-3.1) and NickServ identification against a scripted IRC server on loopback:
/// no IRC server installed here speaks SASL or runs services. The fake holds registration until CAP END, as the
/// CAP spec requires, and checks the PLAIN response itself.
/// </summary>
public sealed class IrcSaslNickServTests
{
    private const string Account = "robot";
    private const string Secret = "s3cret-sasl-pw";
    private const string NickServSecret = "n1ckserv-pw";

    [Fact]
    public async Task Sasl_RightPassword_LogsIn_ThenRegistersAndJoins()
    {
        await using var fake = new FakeIrcServer(saslPassword: Secret, nickServPassword: null);
        var logs = new LogCapture();
        var adapter = NewAdapter(fake.Port, logs, o => (o.SaslUser, o.SaslPassword) = (Account, Secret));
        await using (await AdapterHarness.RunAsync(adapter))
        {
            await fake.WaitForAsync(c => c.Joined.Contains("#ops"));
            await WaitForAsync(() => adapter.State == IrcState.Ready);

            var connection = fake.Connections.ShouldHaveSingleItem();
            connection.SaslResponses.ShouldBe([$"{Account}\0{Account}\0{Secret}"]);
            connection.CapEndBeforeWelcome.ShouldBeTrue();
            connection.LoggedIn.ShouldBeTrue();
            adapter.CurrentNick.ShouldBe("opsbot");
        }

        logs.Text.ShouldContain("logged in with SASL PLAIN as robot");
        logs.ShouldNotLeak(Secret);
    }

    [Fact]
    public async Task Sasl_WrongPassword_ReportsOnce_DoesNotRetryForever_AndNeverLogsThePassword()
    {
        await using var fake = new FakeIrcServer(saslPassword: "the-real-one", nickServPassword: null);
        var logs = new LogCapture();
        var adapter = NewAdapter(fake.Port, logs, o => (o.SaslUser, o.SaslPassword) = (Account, Secret));
        await using (await AdapterHarness.RunAsync(adapter))
        {
            await fake.WaitForAsync(c => c.Joined.Contains("#ops"));
            // A PING round trip: everything the robot had to say about the failure has been said by now.
            await fake.Connections.Single().SyncAsync();

            var connection = fake.Connections.ShouldHaveSingleItem();
            connection.Received.Count(l => l.StartsWith("AUTHENTICATE PLAIN", StringComparison.Ordinal)).ShouldBe(1);
            connection.Received.Count(l => l == "CAP END").ShouldBe(1);
            connection.LoggedIn.ShouldBeFalse();
            adapter.FailedAttempts.ShouldBe(0);
        }

        logs.Text.ShouldContain("SASL PLAIN login as robot failed (904: SASL authentication failed)");
        logs.ShouldNotLeak(Secret);
    }

    [Fact]
    public async Task Sasl_PlainNotAmongTheServersMechanisms_908Then904_EndsCapOnce()
    {
        await using var fake = new FakeIrcServer(saslPassword: Secret, nickServPassword: null) { Mechanisms = "EXTERNAL" };
        var logs = new LogCapture();
        var adapter = NewAdapter(fake.Port, logs, o => (o.SaslUser, o.SaslPassword) = (Account, Secret));
        await using (await AdapterHarness.RunAsync(adapter))
        {
            await fake.WaitForAsync(c => c.Joined.Contains("#ops"));
            await fake.Connections.Single().SyncAsync();

            var connection = fake.Connections.ShouldHaveSingleItem();
            connection.Received.Count(l => l == "CAP END").ShouldBe(1);
            connection.SaslResponses.ShouldBeEmpty(); // the credentials were never sent
        }

        logs.Text.ShouldContain("failed (904");
        logs.ShouldNotLeak(Secret);
    }

    [Fact]
    public async Task Sasl_ServerWithoutSasl_EndsCapAndRegistersWithoutIt()
    {
        await using var fake = new FakeIrcServer(saslPassword: null, nickServPassword: null);
        var logs = new LogCapture();
        var adapter = NewAdapter(fake.Port, logs, o => (o.SaslUser, o.SaslPassword) = (Account, Secret));
        await using (await AdapterHarness.RunAsync(adapter))
        {
            await fake.WaitForAsync(c => c.Joined.Contains("#ops"));

            var connection = fake.Connections.ShouldHaveSingleItem();
            connection.Received.ShouldNotContain(l => l.StartsWith("AUTHENTICATE", StringComparison.Ordinal) || l.StartsWith("CAP REQ", StringComparison.Ordinal));
        }

        logs.Text.ShouldContain("does not offer SASL");
        logs.ShouldNotLeak(Secret);
    }

    [Fact]
    public async Task NickServ_IdentifyIsSentOnceAfterEachRegistration_AndThePasswordIsNeverLogged()
    {
        await using var fake = new FakeIrcServer(saslPassword: null, nickServPassword: NickServSecret);
        var logs = new LogCapture();
        var adapter = NewAdapter(fake.Port, logs, o => o.NickServPassword = NickServSecret);
        await using (await AdapterHarness.RunAsync(adapter))
        {
            await fake.WaitForAsync(c => c.Joined.Contains("#ops") && c.Identified);
            var first = fake.Connections.Single();
            await first.SyncAsync();
            first.Identifies.ShouldBe([("PRIVMSG NickServ :IDENTIFY " + NickServSecret, true)]); // once, after 001
            first.Received.ShouldNotContain(l => l.StartsWith("CAP", StringComparison.Ordinal)); // no SASL configured

            // After a lost connection, the new registration identifies again, once.
            first.Drop();
            await fake.WaitForAsync(c => c != first && c.Joined.Contains("#ops") && c.Identified);
            var second = fake.Connections[^1];
            await second.SyncAsync();
            second.Identifies.Count.ShouldBe(1);
        }

        logs.Text.ShouldContain("sent IDENTIFY to NickServ");
        logs.ShouldNotLeak(NickServSecret);
    }

    private static IrcAdapter NewAdapter(int port, LogCapture logs, Action<IrcOptions> configure)
    {
        var options = new IrcOptions
        {
            Enabled = true,
            Host = "127.0.0.1",
            Port = port,
            Nick = "opsbot",
            Channels = ["#ops"],
            MessageDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(100),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            RegistrationTimeout = TimeSpan.FromSeconds(30),
        };
        configure(options);
        options.Validate();
        var services = AdapterHarness.Services(s => s.AddSingleton<ILoggerProvider>(logs));
        return new IrcAdapter(Options.Create(options), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<IrcAdapter>>());
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(AdapterHarness.Wait);
        while (!condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }
}

/// <summary>Every log line (message and exception) the adapter wrote, to look for what must and must not be there.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(_lines);

    /// <summary>Neither the secret nor anything that encodes it (the base64 SASL response) appears in any log line.</summary>
    public void ShouldNotLeak(string secret)
    {
        Text.ShouldNotContain(secret);
        Text.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret))[..8]);
        Text.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"robot\0robot\0{secret}"))[..16]);
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}

/// <summary>
/// A scripted IRC server on 127.0.0.1: CAP LS/REQ/ACK/END (registration held until CAP END), AUTHENTICATE PLAIN
/// with 900/903 or 904, the welcome, JOIN, PING, and a NickServ that answers IDENTIFY by NOTICE.
/// </summary>
internal sealed class FakeIrcServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<FakeConnection> _connections = new();
    private readonly List<Task> _running = [];
    private readonly Task _accepting;

    public FakeIrcServer(string? saslPassword, string? nickServPassword)
    {
        SaslPassword = saslPassword;
        NickServPassword = nickServPassword;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>The account password; null: the server does not offer SASL.</summary>
    public string? SaslPassword { get; }

    public string? NickServPassword { get; }

    /// <summary>The SASL mechanisms offered (<c>sasl=…</c>); a request for another is refused with 908 and 904.</summary>
    public string Mechanisms { get; init; } = "PLAIN,EXTERNAL";

    public IReadOnlyList<FakeConnection> Connections => [.. _connections];

    public async Task WaitForAsync(Func<FakeConnection, bool> condition)
    {
        using var cts = new CancellationTokenSource(AdapterHarness.Wait);
        while (!Connections.Any(condition))
        {
            await Task.Delay(20, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var c in _connections)
        {
            c.Drop();
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var connection = new FakeConnection(this, client);
            _connections.Enqueue(connection);
            lock (_running)
            {
                _running.Add(connection.RunAsync(_stop.Token));
            }
        }
    }
}

internal sealed class FakeConnection(FakeIrcServer server, TcpClient client)
{
    private const string Me = "irc.fake";
    private readonly ConcurrentQueue<string> _received = new();
    private readonly ConcurrentQueue<(string Line, bool AfterWelcome)> _identifies = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private TaskCompletionSource _pong = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamWriter? _writer;
    private string _nick = "*";
    private bool _user;
    private bool _capNegotiating;
    private volatile bool _welcomed;

    public IReadOnlyList<string> Received => [.. _received];

    public List<string> SaslResponses { get; } = [];

    public IReadOnlyList<(string Line, bool AfterWelcome)> Identifies => [.. _identifies];

    public ConcurrentDictionary<string, bool> JoinedSet { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ICollection<string> Joined => JoinedSet.Keys;

    public bool CapEndBeforeWelcome { get; private set; }

    public volatile bool LoggedIn;

    public volatile bool Identified;

    public void Drop() => client.Dispose();

    /// <summary>Sends a PING and waits for its PONG: the client has handled every line sent before.</summary>
    public async Task SyncAsync()
    {
        _pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendAsync($"PING :sync");
        await _pong.Task.WaitAsync(AdapterHarness.Wait);
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using (client)
        {
            var stream = client.GetStream();
            _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            try
            {
                while (await reader.ReadLineAsync(stop) is { } line)
                {
                    _received.Enqueue(line);
                    await OnLineAsync(line);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task OnLineAsync(string line)
    {
        var (command, args, trailing) = Split(line);
        switch (command)
        {
            case "CAP" when args.FirstOrDefault() == "LS":
                _capNegotiating = true;
                var caps = server.SaslPassword is null ? "multi-prefix away-notify" : $"multi-prefix sasl={server.Mechanisms}";
                // Two LS lines (CAP 302 multiline): the first marked with '*'.
                await SendAsync($":{Me} CAP {_nick} LS * :account-notify");
                await SendAsync($":{Me} CAP {_nick} LS :{caps}");
                break;
            case "CAP" when args.FirstOrDefault() == "REQ":
                var requested = trailing ?? args.ElementAtOrDefault(1) ?? string.Empty;
                await SendAsync(server.SaslPassword is not null && requested == "sasl" ? $":{Me} CAP {_nick} ACK :sasl" : $":{Me} CAP {_nick} NAK :{requested}");
                break;
            case "CAP" when args.FirstOrDefault() == "END":
                _capNegotiating = false;
                CapEndBeforeWelcome = !_welcomed;
                await WelcomeIfReadyAsync();
                break;
            case "AUTHENTICATE" when args.FirstOrDefault() == "PLAIN" && !server.Mechanisms.Split(',').Contains("PLAIN"):
                await SendAsync($":{Me} 908 {_nick} {server.Mechanisms} :are available SASL mechanisms");
                await SendAsync($":{Me} 904 {_nick} :SASL authentication failed");
                break;
            case "AUTHENTICATE" when args.FirstOrDefault() == "PLAIN":
                await SendAsync("AUTHENTICATE +");
                break;
            case "AUTHENTICATE":
                var response = Encoding.UTF8.GetString(Convert.FromBase64String(args[0]));
                SaslResponses.Add(response);
                if (response == $"robot\0robot\0{server.SaslPassword}")
                {
                    LoggedIn = true;
                    await SendAsync($":{Me} 900 {_nick} {_nick}!robot@127.0.0.1 robot :You are now logged in as robot");
                    await SendAsync($":{Me} 903 {_nick} :SASL authentication successful");
                }
                else
                {
                    await SendAsync($":{Me} 904 {_nick} :SASL authentication failed");
                }

                break;
            case "NICK":
                _nick = args[0];
                await WelcomeIfReadyAsync();
                break;
            case "USER":
                _user = true;
                await WelcomeIfReadyAsync();
                break;
            case "JOIN":
                JoinedSet[args[0]] = true;
                await SendAsync($":{_nick}!robot@127.0.0.1 JOIN {args[0]}");
                await SendAsync($":{Me} 366 {_nick} {args[0]} :End of NAMES list");
                break;
            case "PRIVMSG" when args[0].Equals("NickServ", StringComparison.OrdinalIgnoreCase):
                _identifies.Enqueue((line, _welcomed));
                var ok = trailing == "IDENTIFY " + server.NickServPassword;
                Identified |= ok;
                await SendAsync($":NickServ!NickServ@services.fake NOTICE {_nick} :{(ok ? "You are now identified for " + _nick + "." : "Invalid password for " + _nick + ".")}");
                break;
            case "PING":
                await SendAsync($":{Me} PONG {Me} :{trailing ?? args.FirstOrDefault()}");
                break;
            case "PONG":
                _pong.TrySetResult();
                break;
            default:
                break;
        }
    }

    private async Task WelcomeIfReadyAsync()
    {
        if (!_welcomed && !_capNegotiating && _nick != "*" && _user)
        {
            _welcomed = true;
            await SendAsync($":{Me} 001 {_nick} :Welcome to the fake network {_nick}");
            await SendAsync($":{Me} 376 {_nick} :End of MOTD");
        }
    }

    private async Task SendAsync(string line)
    {
        await _write.WaitAsync();
        try
        {
            await _writer!.WriteLineAsync(line);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        finally
        {
            _write.Release();
        }
    }

    private static (string Command, string[] Args, string? Trailing) Split(string line)
    {
        var cut = line.IndexOf(" :", StringComparison.Ordinal);
        var head = cut >= 0 ? line[..cut] : line;
        var trailing = cut >= 0 ? line[(cut + 2)..] : null;
        var words = head.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] args = trailing is null ? words[1..] : [.. words[1..], trailing];
        return (words[0].ToUpperInvariant(), args, trailing);
    }
}
