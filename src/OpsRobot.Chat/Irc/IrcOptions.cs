using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace OpsRobot.Chat.Irc;

/// <summary>
/// The IRC adapter's settings, bound from <c>OpsRobot:Chat:Irc</c>. Secrets (<see cref="Password"/>,
/// <see cref="SaslPassword"/>, <see cref="NickServPassword"/>) are never logged nor shown in status.
/// </summary>
public sealed class IrcOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "OpsRobot:Chat:Irc";

    /// <summary>Off by default: the robot connects to no IRC server unless told to.</summary>
    public bool Enabled { get; set; }

    /// <summary>The server's host name or address.</summary>
    public string Host { get; set; } = string.Empty;

    public int Port { get; set; } = 6667;

    /// <summary>TLS with certificate validation (usually port 6697). There is no switch to skip validation.</summary>
    public bool UseTls { get; set; }

    /// <summary>
    /// A PEM file of the certificate authorities (or the server's own self-signed certificate) to trust for this
    /// server <em>instead of</em> the system's roots. The server's name (<see cref="Host"/>) is still checked against
    /// its certificate. Unset: the system's trusted roots.
    /// </summary>
    public string? TlsTrustedCertificatesFile { get; set; }

    public string Nick { get; set; } = "opsrobot";

    /// <summary>Nicks tried in order when <see cref="Nick"/> is taken; after them, <see cref="Nick"/> plus digits.</summary>
    public IList<string> AlternativeNicks { get; set; } = [];

    /// <summary>The user name (ident) sent in USER; defaults to <see cref="Nick"/>.</summary>
    public string? UserName { get; set; }

    /// <summary>The "real name" sent in USER; defaults to "OpsRobot".</summary>
    public string? RealName { get; set; }

    /// <summary>The server password (PASS). Secret.</summary>
    public string? Password { get; set; }

    /// <summary>The account for SASL PLAIN; SASL is used when this and <see cref="SaslPassword"/> are set.</summary>
    public string? SaslUser { get; set; }

    /// <summary>Secret.</summary>
    public string? SaslPassword { get; set; }

    /// <summary>When set, <c>IDENTIFY</c> is sent to NickServ after registration. Secret.</summary>
    public string? NickServPassword { get; set; }

    /// <summary>The channels to join (with their leading <c>#</c>).</summary>
    public IList<string> Channels { get; set; } = [];

    /// <summary>
    /// Flood control: the pause between lines once <see cref="MessageBurst"/> lines went out at once. Servers
    /// disconnect clients that send too fast; zero disables flood control and risks exactly that.
    /// </summary>
    public TimeSpan MessageDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lines that may go out back to back before <see cref="MessageDelay"/> applies.</summary>
    public int MessageBurst { get; set; } = 4;

    /// <summary>
    /// The most bytes of text in one PRIVMSG; longer lines are split. IRC lines are limited to 512 bytes with the
    /// sender's prefix the server adds, so raising this risks the server cutting the end off.
    /// </summary>
    public int MaxLineBytes { get; set; } = 400;

    /// <summary>Lines kept while disconnected or throttled; beyond this the oldest are dropped (and logged).</summary>
    public int MaxQueuedLines { get; set; } = 1000;

    /// <summary>The first reconnect delay; it doubles on each failure, with jitter, up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a TCP (and TLS) connect may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long registration (up to the welcome, 001) may take before the connection is dropped and retried.</summary>
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>After this much silence from the server the robot sends a PING; after twice this it reconnects.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>The wait before joining a channel again after a KICK.</summary>
    public TimeSpan RejoinDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Reads the options from <paramref name="section"/>; a malformed value names its key.</summary>
    public static IrcOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var o = new IrcOptions();
        o.Enabled = Read(section, nameof(Enabled), o.Enabled, bool.Parse);
        o.Host = section[nameof(Host)] ?? o.Host;
        o.Port = Read(section, nameof(Port), o.Port, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
        o.UseTls = Read(section, nameof(UseTls), o.UseTls, bool.Parse);
        o.TlsTrustedCertificatesFile = string.IsNullOrWhiteSpace(section[nameof(TlsTrustedCertificatesFile)]) ? null : section[nameof(TlsTrustedCertificatesFile)]!.Trim();
        o.Nick = section[nameof(Nick)] ?? o.Nick;
        o.AlternativeNicks = ReadList(section, nameof(AlternativeNicks));
        o.UserName = section[nameof(UserName)];
        o.RealName = section[nameof(RealName)];
        o.Password = section[nameof(Password)];
        o.SaslUser = section[nameof(SaslUser)];
        o.SaslPassword = section[nameof(SaslPassword)];
        o.NickServPassword = section[nameof(NickServPassword)];
        o.Channels = ReadList(section, nameof(Channels));
        o.MessageDelay = ReadTime(section, nameof(MessageDelay), o.MessageDelay);
        o.MessageBurst = Read(section, nameof(MessageBurst), o.MessageBurst, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
        o.MaxLineBytes = Read(section, nameof(MaxLineBytes), o.MaxLineBytes, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
        o.MaxQueuedLines = Read(section, nameof(MaxQueuedLines), o.MaxQueuedLines, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
        o.ReconnectMinDelay = ReadTime(section, nameof(ReconnectMinDelay), o.ReconnectMinDelay);
        o.ReconnectMaxDelay = ReadTime(section, nameof(ReconnectMaxDelay), o.ReconnectMaxDelay);
        o.ConnectTimeout = ReadTime(section, nameof(ConnectTimeout), o.ConnectTimeout);
        o.RegistrationTimeout = ReadTime(section, nameof(RegistrationTimeout), o.RegistrationTimeout);
        o.PingInterval = ReadTime(section, nameof(PingInterval), o.PingInterval);
        o.RejoinDelay = ReadTime(section, nameof(RejoinDelay), o.RejoinDelay);
        return o;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidOperationException($"{Section}: {message}");
            }
        }

        Check(!string.IsNullOrWhiteSpace(Host), "Host is required when Enabled is true.");
        Check(Port is > 0 and < 65536, $"Port {Port} must be between 1 and 65535.");
        Check(IrcProtocol.IsValidNick(Nick), $"Nick '{Nick}' is not a valid IRC nick.");
        foreach (var nick in AlternativeNicks)
        {
            Check(IrcProtocol.IsValidNick(nick), $"AlternativeNicks entry '{nick}' is not a valid IRC nick.");
        }

        foreach (var channel in Channels)
        {
            Check(IrcProtocol.IsChannelName(channel) && IrcProtocol.IsValidTarget(channel), $"Channels entry '{channel}' is not a channel name (it must start with #, & or + and contain no spaces or commas).");
        }

        Check(MaxLineBytes is >= 16 and <= 480, $"MaxLineBytes {MaxLineBytes} must be between 16 and 480.");
        Check(MessageBurst >= 1, "MessageBurst must be at least 1.");
        Check(MessageDelay >= TimeSpan.Zero, "MessageDelay must not be negative.");
        Check(MaxQueuedLines >= 1, "MaxQueuedLines must be at least 1.");
        Check(ReconnectMinDelay > TimeSpan.Zero && ReconnectMaxDelay >= ReconnectMinDelay, "ReconnectMinDelay must be positive and at most ReconnectMaxDelay.");
        Check(ConnectTimeout > TimeSpan.Zero && RegistrationTimeout > TimeSpan.Zero && PingInterval > TimeSpan.Zero, "ConnectTimeout, RegistrationTimeout and PingInterval must be positive.");
        Check(string.IsNullOrEmpty(SaslUser) == string.IsNullOrEmpty(SaslPassword), "SaslUser and SaslPassword go together.");
        if (TlsTrustedCertificatesFile is not null)
        {
            Check(UseTls, "TlsTrustedCertificatesFile is set but UseTls is false.");
            LoadTrustedCertificates();
        }

        foreach (var (name, value) in new[] { (nameof(Password), Password), (nameof(SaslUser), SaslUser), (nameof(SaslPassword), SaslPassword), (nameof(NickServPassword), NickServPassword), (nameof(UserName), UserName), (nameof(RealName), RealName) })
        {
            Check(value is null || value.IndexOfAny(['\r', '\n', '\0']) < 0, $"{name} must not contain line breaks or NUL.");
        }
    }

    /// <summary>
    /// The certificates of <see cref="TlsTrustedCertificatesFile"/>; throws <see cref="InvalidOperationException"/>
    /// when the file cannot be read or holds no certificate.
    /// </summary>
    internal X509Certificate2Collection LoadTrustedCertificates()
    {
        var path = TlsTrustedCertificatesFile ?? throw new InvalidOperationException($"{Section}: TlsTrustedCertificatesFile is not set.");
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"{Section}: TlsTrustedCertificatesFile '{path}' cannot be read as PEM certificates: {ex.Message}", ex);
        }

        if (certificates.Count == 0)
        {
            throw new InvalidOperationException($"{Section}: TlsTrustedCertificatesFile '{path}' holds no certificate (expected '-----BEGIN CERTIFICATE-----' blocks).");
        }

        return certificates;
    }

    private static T Read<T>(IConfiguration section, string key, T fallback, Func<string, T> parse)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        try
        {
            return parse(value.Trim());
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"{Section}:{key} '{value}' is not a valid {typeof(T).Name}.", ex);
        }
        catch (OverflowException ex)
        {
            throw new InvalidOperationException($"{Section}:{key} '{value}' is out of range.", ex);
        }
    }

    private static TimeSpan ReadTime(IConfiguration section, string key, TimeSpan fallback) =>
        Read(section, key, fallback, s => TimeSpan.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>A list from array entries (<c>Channels:0</c>) or, for environment variables, one comma-separated value.</summary>
    private static List<string> ReadList(IConfiguration section, string key)
    {
        var list = section.GetSection(key).GetChildren().Select(c => c.Value).OfType<string>().ToList();
        if (list.Count == 0 && section[key] is { } joined)
        {
            list.AddRange(joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return list.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
    }
}
