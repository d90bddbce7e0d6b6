using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Chat.Irc;
using OpsRobot.Core.Chat;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// The IRC adapter against a real ngircd started by each test on a free loopback port, watched and driven by an
/// independent raw IRC client written here (a socket and lines), not by the adapter's own code.
/// </summary>
public sealed class IrcAdapterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Channel_Ping_RobotAnswersPongFromItsNick()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "alice");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        await user.SendAsync("PRIVMSG #ops :!ping");

        var reply = await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait);
        reply.Params.ShouldBe(["#ops", "pong"]);
    }

    [Fact]
    public async Task DirectMessage_Ping_AnswersPrivately()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "bob");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        await user.SendAsync("PRIVMSG opsbot :ping");

        var reply = await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait);
        reply.Params.ShouldBe(["bob", "pong"]);
    }

    [Fact]
    public async Task NickTaken_RobotUsesAlternative_AndStillAnswers()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var squatter = await RawIrcClient.ConnectAsync(irc.Port, "opsbot");
        await squatter.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot", new() { ["OpsRobot:Chat:Irc:AlternativeNicks:0"] = "opsbot_alt" });
        await squatter.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot_alt", Wait);

        await squatter.SendAsync("PRIVMSG #ops :!ping");

        var reply = await squatter.WaitForAsync(l => l.Command == "PRIVMSG" && l.Params[0] == "#ops", Wait);
        reply.Nick.ShouldBe("opsbot_alt");
        reply.Params[1].ShouldBe("pong");
    }

    [Fact]
    public async Task LongReplies_AreSplitOverLines_CompleteAndInOrder()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "carol");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        // What fits in one incoming IRC line (512 bytes): 150 two- and three-byte characters, 435 bytes: two reply lines.
        var echoed = string.Concat(Enumerable.Range(0, 150).Select(i => i % 10 == 0 ? "é" : "€"));
        await user.SendAsync("PRIVMSG #ops :!echo " + echoed);
        (await ReadRobotTextAsync(user, "#ops", echoed.Length)).ShouldBe(echoed);

        // 1,500 characters cannot come in through IRC; they go out the way an execution's result does.
        var result = string.Concat(Enumerable.Range(0, 1500).Select(i => (char)('a' + (i % 26))));
        var sent = await server.Host.App.Services.GetRequiredService<IChatReplySender>()
            .SendAsync("irc", new ChatRoom("#ops", "#ops", false), new OutgoingMessage(result), CancellationToken.None);
        sent.ShouldBeTrue();
        var lines = new List<string>();
        while (lines.Sum(l => l.Length) < result.Length)
        {
            lines.Add((await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1]);
        }

        lines.Count.ShouldBeGreaterThan(3);
        lines.ShouldAllBe(l => Encoding.UTF8.GetByteCount(l) <= 400);
        string.Concat(lines).ShouldBe(result);
    }

    [Fact]
    public async Task ReplyWithLineBreaks_CannotInjectACommand()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "dave");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        await server.Host.App.Services.GetRequiredService<IChatReplySender>().SendAsync(
            "irc", new ChatRoom("#ops", "#ops", false), new OutgoingMessage("hello\r\nQUIT :bye\rNICK evil\0\u0002x"), CancellationToken.None);

        (await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("hello");
        (await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("QUIT :bye");
        (await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("NICK evilx");
        await user.SendAsync("PRIVMSG #ops :!ping");
        var reply = await user.WaitForAsync(l => l.Nick == "opsbot" || l.Command is "QUIT" or "NICK", Wait);
        reply.Command.ShouldBe("PRIVMSG");
        reply.Params[1].ShouldBe("pong");
    }

    [Fact]
    public async Task CtcpAndNotice_AreIgnored()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "erin");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        await user.SendAsync("NOTICE #ops :!ping");
        await user.SendAsync("PRIVMSG opsbot :\u0001ACTION ping\u0001");
        await user.SendAsync("PRIVMSG #ops :!echo last");

        // Replies come in order per room; the first thing the robot says is the answer to the last line.
        var first = await user.WaitForAsync(l => l.Nick == "opsbot" && l.Command is "PRIVMSG" or "NOTICE", Wait);
        first.Params.ShouldBe(["#ops", "last"]);
    }

    [Fact]
    public async Task ServerRestart_RobotReconnects_DeliversWhatWasQueued_AndAnswers()
    {
        await using var irc = await NgircdServer.StartAsync();
        // The robot reaches ngircd through a gate, so after the restart the test's client is back in #ops before
        // the robot is let in, and sees what the robot queued while the server was down.
        await using var gate = new GatedRelay(irc.Port);
        var user = await RawIrcClient.ConnectAsync(irc.Port, "frank");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot", new() { ["OpsRobot:Chat:Irc:Port"] = gate.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);
        await user.DisposeAsync();

        gate.Open = false;
        await irc.StopAsync();
        await Task.Delay(500); // the robot notices and starts backing off
        var sender = server.Host.App.Services.GetRequiredService<IChatReplySender>();
        (await sender.SendAsync("irc", new ChatRoom("#ops", "#ops", false), new OutgoingMessage("said while away"), CancellationToken.None)).ShouldBeTrue();
        await irc.StartAgainAsync();
        await using var again = await RawIrcClient.ConnectAsync(irc.Port, "frank");
        await again.JoinAsync("#ops");
        gate.Open = true;

        await again.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);
        (await again.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("said while away");
        await again.SendAsync("PRIVMSG #ops :!ping");
        (await again.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("pong");
    }

    [Fact]
    public async Task ServerPing_IsAnswered_RobotStaysConnected()
    {
        // ngircd's smallest timeouts: PING after 5 s of silence, disconnect 5 s later without PONG.
        await using var irc = await NgircdServer.StartAsync(pingTimeoutSeconds: 5);
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "grace");
        await user.JoinAsync("#ops");
        await using var server = await StartRobotAsync(irc, "opsbot");
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        // Three PING rounds; a robot that did not answer would be gone after the first.
        var quit = user.WaitForAsync(l => l.Nick == "opsbot" && l.Command is "QUIT" or "PART", TimeSpan.FromSeconds(25));
        await Should.ThrowAsync<TimeoutException>(quit);

        await user.SendAsync("PRIVMSG #ops :!ping");
        (await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1].ShouldBe("pong");
    }

    private static async Task<string> ReadRobotTextAsync(RawIrcClient user, string target, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            var line = await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot" && l.Params[0] == target, Wait);
            Encoding.UTF8.GetByteCount(line.Params[1]).ShouldBeLessThanOrEqualTo(400);
            text.Append(line.Params[1]);
        }

        return text.ToString();
    }

    internal static Task<RunningServer> StartRobotAsync(NgircdServer irc, string nick, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["OpsRobot:Chat:Irc:Enabled"] = "true",
            ["OpsRobot:Chat:Irc:Host"] = "127.0.0.1",
            ["OpsRobot:Chat:Irc:Port"] = irc.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OpsRobot:Chat:Irc:Nick"] = nick,
            ["OpsRobot:Chat:Irc:Channels:0"] = "#ops",
            ["OpsRobot:Chat:Irc:MessageDelay"] = "00:00:00.050",
            ["OpsRobot:Chat:Irc:ReconnectMinDelay"] = "00:00:00.200",
            ["OpsRobot:Chat:Irc:ReconnectMaxDelay"] = "00:00:01",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return RunningServer.StartAsync(settings);
    }
}

/// <summary>Binding and checks of <c>OpsRobot:Chat:Irc</c> (here because this project has the configuration packages).</summary>
public sealed class IrcOptionsTests
{
    [Fact]
    public void FromConfiguration_Empty_GivesSafeDefaults()
    {
        var o = OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section([]));

        o.Enabled.ShouldBeFalse();
        o.Port.ShouldBe(6667);
        o.Nick.ShouldBe("opsrobot");
        o.MessageDelay.ShouldBe(TimeSpan.FromSeconds(1));
        o.MessageBurst.ShouldBe(4);
        o.MaxLineBytes.ShouldBe(400);
    }

    [Fact]
    public void FromConfiguration_ListsAsArrayOrCommaSeparated()
    {
        OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section(new() { ["Channels:0"] = "#ops", ["Channels:1"] = "#dev" })).Channels.ShouldBe(["#ops", "#dev"]);
        OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section(new() { ["Channels"] = "#ops, #dev" })).Channels.ShouldBe(["#ops", "#dev"]);
    }

    [Theory]
    [InlineData("Port", "six")]
    [InlineData("Enabled", "maybe")]
    [InlineData("MessageDelay", "soon")]
    public void FromConfiguration_MalformedValue_NamesTheKey(string key, string value)
    {
        var ex = Should.Throw<InvalidOperationException>(() => OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section(new() { [key] = value })));

        ex.Message.ShouldContain(key);
    }

    [Theory]
    [InlineData("Host", "")] // no server
    [InlineData("Channels:0", "ops")] // not a channel
    [InlineData("Channels:0", "#a,#b")] // two channels in one
    [InlineData("Nick", "1bad")]
    [InlineData("MaxLineBytes", "600")]
    [InlineData("SaslUser", "robot")] // without its password
    public void Validate_SettingThatCannotWork_Throws(string key, string value)
    {
        var settings = new Dictionary<string, string?> { ["Enabled"] = "true", ["Host"] = "irc.example.net", [key] = value };

        Should.Throw<InvalidOperationException>(() => OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section(settings)).Validate());
    }

    [Fact]
    public void Validate_ErrorMessage_NeverShowsAPassword()
    {
        var settings = new Dictionary<string, string?> { ["Host"] = "", ["Password"] = "hunter2", ["SaslPassword"] = "hunter3" };

        var ex = Should.Throw<InvalidOperationException>(() => OpsRobot.Chat.Irc.IrcOptions.FromConfiguration(Section(settings)).Validate());

        ex.Message.ShouldNotContain("hunter");
    }

    [Fact]
    public void Validate_TrustedCertificatesFile_MustExist_HoldCertificates_AndGoWithTls()
    {
        using var dir = new TempDirectory("opsrobot-irc-options");
        var good = dir.Write("ca.pem", IrcTlsTests.SelfSigned("irc.example.net", loopbackNames: false).CertificatePem);
        var empty = dir.Write("empty.pem", "not a certificate\n");
        IrcOptions Options(string file, string tls) => IrcOptions.FromConfiguration(Section(new() { ["Enabled"] = "true", ["Host"] = "irc.example.net", ["UseTls"] = tls, ["TlsTrustedCertificatesFile"] = file }));

        Options(good, "true").Validate();
        Should.Throw<InvalidOperationException>(() => Options(good, "false").Validate()).Message.ShouldContain("UseTls");
        Should.Throw<InvalidOperationException>(() => Options(empty, "true").Validate()).Message.ShouldContain("holds no certificate");
        Should.Throw<InvalidOperationException>(() => Options(Path.Combine(dir.Path, "missing.pem"), "true").Validate()).Message.ShouldContain("TlsTrustedCertificatesFile");
    }

    private static IConfiguration Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}

/// <summary>A loopback TCP relay to ngircd that refuses connections while closed (the server still is the real one).</summary>
internal sealed class GatedRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly int _target;

    public GatedRelay(int target)
    {
        _target = target;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public volatile bool Open = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (!Open)
            {
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var a = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
                var b = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
                await Task.WhenAny(a, b);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }
}

/// <summary>A real ngircd on a free loopback port, with a throw-away configuration; killed on dispose.</summary>
internal sealed class NgircdServer : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/ngircd";
    private readonly TempDirectory _dir;
    private readonly string _config;
    private Process? _process;

    /// <summary>RFC 7919's ffdhe2048 group, so ngircd (GnuTLS) does not spend seconds generating DH parameters.</summary>
    private const string Ffdhe2048 = """
        -----BEGIN DH PARAMETERS-----
        MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
        +8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
        87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
        YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
        7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
        ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
        -----END DH PARAMETERS-----
        """;

    private NgircdServer(TempDirectory dir, string config, int port, int? tlsPort)
    {
        _dir = dir;
        _config = config;
        Port = port;
        TlsPort = tlsPort;
    }

    /// <summary>The plain-text port.</summary>
    public int Port { get; }

    /// <summary>The TLS port, when started with a certificate.</summary>
    public int? TlsPort { get; }

    /// <summary>
    /// Starts ngircd on loopback; with <paramref name="tls"/> (a PEM certificate and its PEM private key) it also
    /// listens for TLS on <see cref="TlsPort"/>.
    /// </summary>
    public static async Task<NgircdServer> StartAsync(int pingTimeoutSeconds = 120, (string CertificatePem, string KeyPem)? tls = null)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException("ngircd is not installed: apt-get install -y ngircd (build.sh installs it).");
        }

        var port = FreePort();
        var dir = new TempDirectory("opsrobot-ngircd");
        // ngircd drops to 'nobody' when started as root, and reads its files after that.
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_101_101);
        var config = dir.Write("ngircd.conf", $"""
            [Global]
            Name = irc.test
            Info = OpsRobot test server
            AdminInfo1 = tests
            AdminInfo2 = tests
            AdminEMail = tests@localhost
            Listen = 127.0.0.1
            Ports = {port}
            MotdPhrase = test server
            [Limits]
            MaxConnectionsIP = 0
            MaxNickLength = 30
            MaxPenaltyTime = 0
            PingTimeout = {pingTimeoutSeconds}
            PongTimeout = 5
            [Options]
            DefaultUserModes = F
            DNS = no
            Ident = no
            PAM = no
            """);
        int? tlsPort = null;
        if (tls is { } pem)
        {
            tlsPort = FreePort();
            // Readable by 'nobody' (see above): a throw-away key for a loopback-only test server.
            var files = new[] { dir.Write("cert.pem", pem.CertificatePem), dir.Write("key.pem", pem.KeyPem), dir.Write("dh.pem", Ffdhe2048) };
            foreach (var file in files)
            {
                File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
            }

            File.AppendAllText(config, $"""

                [SSL]
                CertFile = {files[0]}
                KeyFile = {files[1]}
                DHFile = {files[2]}
                Ports = {tlsPort}

                """);
        }

        File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100);
        var server = new NgircdServer(dir, config, port, tlsPort);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts ngircd (again) on the same port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo(Binary) { ArgumentList = { "-n", "-f", _config }, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(start) ?? throw new InvalidOperationException("ngircd did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                if (TlsPort is { } tlsPort)
                {
                    using var tlsProbe = new TcpClient();
                    await tlsProbe.ConnectAsync(IPAddress.Loopback, tlsPort);
                }

                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One line as the test client reads it (its own parsing, independent of the adapter).</summary>
internal sealed record RawLine(string Raw, string? Nick, string Command, string[] Params);

/// <summary>A minimal IRC client: registers, answers PING, and lets a test wait for lines.</summary>
internal sealed class RawIrcClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamWriter _writer;
    private readonly Channel<RawLine> _lines = Channel.CreateUnbounded<RawLine>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    private RawIrcClient(TcpClient tcp)
    {
        _tcp = tcp;
        var stream = tcp.GetStream();
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
        _reader = ReadAsync(new StreamReader(stream, new UTF8Encoding(false)));
    }

    public static async Task<RawIrcClient> ConnectAsync(int port, string nick)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var client = new RawIrcClient(tcp);
        await client.SendAsync($"NICK {nick}");
        await client.SendAsync($"USER {nick} 0 * :test user");
        await client.WaitForAsync(l => l.Command == "001", TimeSpan.FromSeconds(10));
        return client;
    }

    public async Task JoinAsync(string channel)
    {
        await SendAsync($"JOIN {channel}");
        await WaitForAsync(l => l.Command == "366", TimeSpan.FromSeconds(10)); // end of NAMES: joined
    }

    public Task SendAsync(string line) => _writer.WriteLineAsync(line);

    /// <summary>Reads lines until one matches; lines before it are consumed. Throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<RawLine> WaitForAsync(Func<RawLine, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException ex) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No matching IRC line within {timeout}.", ex);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("The IRC server closed the test client's connection.", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _tcp.Dispose();
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ReadAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } raw)
            {
                var line = Parse(raw);
                if (line.Command == "PING")
                {
                    await SendAsync("PONG :" + (line.Params.Length > 0 ? line.Params[0] : "x"));
                    continue;
                }

                await _lines.Writer.WriteAsync(line);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }

    private static RawLine Parse(string raw)
    {
        var rest = raw;
        string? nick = null;
        if (rest.StartsWith(':'))
        {
            var space = rest.IndexOf(' ');
            var prefix = rest[1..space];
            nick = prefix.Split('!', '@')[0];
            rest = rest[(space + 1)..];
        }

        var trailing = rest.IndexOf(" :", StringComparison.Ordinal);
        var head = trailing >= 0 ? rest[..trailing] : rest;
        var words = head.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (trailing >= 0)
        {
            words.Add(rest[(trailing + 2)..]);
        }

        return new RawLine(raw, nick, words[0].ToUpperInvariant(), [.. words.Skip(1)]);
    }
}
