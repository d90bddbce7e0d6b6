using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Irc;
using OpsRobot.Testing;

namespace OpsRobot.Tests;

/// <summary>
/// The IRC adapter over TLS against a real ngircd listening for TLS on loopback with a throw-away self-signed
/// certificate made here; the test's own client watches on ngircd's plain port. Certificate validation is real:
/// only the configured certificate is trusted, and the server's name is still checked.
/// </summary>
public sealed class IrcTlsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TrustedSelfSignedCertificate_RobotConnectsOverTls_AndAnswersPing()
    {
        var server = SelfSigned("irc.test", loopbackNames: true);
        await using var irc = await NgircdServer.StartAsync(tls: server);
        using var dir = new TempDirectory("opsrobot-irc-tls");
        var trusted = dir.Write("trusted.pem", server.CertificatePem);
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "alice");
        await user.JoinAsync("#ops");
        await using var robot = await IrcAdapterTests.StartRobotAsync(irc, "opsbot", new()
        {
            ["OpsRobot:Chat:Irc:Port"] = irc.TlsPort!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OpsRobot:Chat:Irc:UseTls"] = "true",
            ["OpsRobot:Chat:Irc:TlsTrustedCertificatesFile"] = trusted,
        });
        await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);

        await user.SendAsync("PRIVMSG #ops :!ping");
        (await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params.ShouldBe(["#ops", "pong"]);

        // ngircd itself says the robot's connection is the TLS one (its WHOIS numeric 275, before 318, the end).
        await user.SendAsync("WHOIS opsbot");
        var whois = await user.WaitForAsync(l => l.Command is "275" or "318", Wait);
        whois.Command.ShouldBe("275");
        whois.Params[^1].ShouldContain("SSL");
    }

    [Fact]
    public async Task UntrustedSelfSignedCertificate_IsRefused_AndTheLogSaysWhy()
    {
        await using var irc = await NgircdServer.StartAsync(tls: SelfSigned("irc.test", loopbackNames: true));
        var logs = new IrcLogCapture();
        var adapter = NewAdapter(irc.TlsPort!.Value, trustedFile: null, logs);

        await using (await RunAsync(adapter))
        {
            await logs.WaitForAsync(l => l.Contains("disconnected from 127.0.0.1", StringComparison.Ordinal), Wait);
            await AssertRobotNeverGotInAsync(irc, adapter);
        }

        logs.Text.ShouldContain("UntrustedRoot");
    }

    [Fact]
    public async Task TrustingAnotherCertificate_DoesNotTrustTheServers()
    {
        await using var irc = await NgircdServer.StartAsync(tls: SelfSigned("irc.test", loopbackNames: true));
        using var dir = new TempDirectory("opsrobot-irc-tls");
        var other = dir.Write("other.pem", SelfSigned("irc.test", loopbackNames: true).CertificatePem);
        var logs = new IrcLogCapture();
        var adapter = NewAdapter(irc.TlsPort!.Value, other, logs);

        await using (await RunAsync(adapter))
        {
            await logs.WaitForAsync(l => l.Contains("disconnected from 127.0.0.1", StringComparison.Ordinal), Wait);
            await AssertRobotNeverGotInAsync(irc, adapter);
        }

        logs.Text.ShouldContain("certificate");
    }

    [Fact]
    public async Task TrustedCertificate_ForAnotherName_IsRefused_TheNameIsStillChecked()
    {
        var server = SelfSigned("irc.elsewhere.test", loopbackNames: false);
        await using var irc = await NgircdServer.StartAsync(tls: server);
        using var dir = new TempDirectory("opsrobot-irc-tls");
        var trusted = dir.Write("trusted.pem", server.CertificatePem);
        var logs = new IrcLogCapture();
        var adapter = NewAdapter(irc.TlsPort!.Value, trusted, logs);

        await using (await RunAsync(adapter))
        {
            await logs.WaitForAsync(l => l.Contains("disconnected from 127.0.0.1", StringComparison.Ordinal), Wait);
            await AssertRobotNeverGotInAsync(irc, adapter);
        }

        logs.Text.ShouldContain("RemoteCertificateNameMismatch");
    }

    /// <summary>The robot is not registered, and ngircd (asked on its plain port) knows no such nick.</summary>
    private static async Task AssertRobotNeverGotInAsync(NgircdServer irc, IrcAdapter adapter)
    {
        adapter.CurrentNick.ShouldBeNull();
        adapter.State.ShouldNotBe(IrcState.Ready);
        await using var user = await RawIrcClient.ConnectAsync(irc.Port, "watcher");
        await user.SendAsync("ISON opsbot");
        (await user.WaitForAsync(l => l.Command == "303", Wait)).Params[^1].ShouldBeEmpty();
    }

    private static IrcAdapter NewAdapter(int port, string? trustedFile, IrcLogCapture logs)
    {
        var options = new IrcOptions
        {
            Enabled = true,
            Host = "127.0.0.1",
            Port = port,
            UseTls = true,
            TlsTrustedCertificatesFile = trustedFile,
            Nick = "opsbot",
            Channels = ["#ops"],
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        };
        options.Validate();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs)).BuildServiceProvider();
        return new IrcAdapter(Options.Create(options), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<IrcAdapter>>());
    }

    private static async Task<IAsyncDisposable> RunAsync(IrcAdapter adapter)
    {
        await adapter.StartAsync(CancellationToken.None);
        return new Stopper(adapter);
    }

    /// <summary>A throw-away self-signed server certificate (as <c>openssl req -x509</c> makes) and its key, in PEM.</summary>
    internal static (string CertificatePem, string KeyPem) SelfSigned(string name, bool loopbackNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        if (loopbackNames)
        {
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private sealed class Stopper(IrcAdapter adapter) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await adapter.StopAsync(cts.Token);
        }
    }
}

/// <summary>Every log line the adapter wrote (message and exception).</summary>
internal sealed class IrcLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(_lines);

    public async Task WaitForAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!_lines.Any(match))
        {
            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException ex)
            {
                throw new TimeoutException($"No matching log line within {timeout}; logged:\n{Text}", ex);
            }
        }
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
