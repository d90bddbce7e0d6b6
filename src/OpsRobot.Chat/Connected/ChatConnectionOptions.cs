using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace OpsRobot.Chat.Connected;

/// <summary>
/// Settings every connected chat adapter (Slack, Mattermost, Rocket.Chat) shares: reconnects, the send queue and
/// pacing. Each platform's options derive from this and are bound from <c>OpsRobot:Chat:&lt;Platform&gt;</c>.
/// </summary>
public abstract class ChatConnectionOptions
{
    /// <summary>Off by default: the robot connects to nothing unless told to.</summary>
    public bool Enabled { get; set; }

    /// <summary>The first reconnect delay; it doubles on each failure, with jitter, up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long opening the connection (HTTP calls and the WebSocket handshake) may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one API call may take before it is abandoned and retried.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Messages kept while disconnected or throttled; beyond this the oldest are dropped (and logged).</summary>
    public int MaxQueuedMessages { get; set; } = 1000;

    /// <summary>
    /// Pacing: the pause between posts once <see cref="MessageBurst"/> went out at once. Platforms throttle bots
    /// that post faster (Slack allows about one message per second per channel); zero disables pacing and leaves
    /// only the server's 429 answers to slow the robot down.
    /// </summary>
    public TimeSpan MessageDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Posts that may go out back to back before <see cref="MessageDelay"/> applies.</summary>
    public int MessageBurst { get; set; } = 3;

    /// <summary>
    /// How long a direct message (a one-time code) may wait for its conversation to be opened: behind queued posts,
    /// a 429 or a reconnect. Past it the robot is told the direct message could not be sent (it points to the web
    /// console instead) and the message is withdrawn, never sent late.
    /// </summary>
    public TimeSpan DirectMessageTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest WebSocket message accepted from the server; a larger one ends the connection.</summary>
    public int MaxEventBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The configuration section, for error messages.</summary>
    protected abstract string SectionName { get; }

    /// <summary>Reads the shared settings from <paramref name="section"/>.</summary>
    protected void ReadCommon(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var r = new OptionsReader(section, SectionName);
        Enabled = r.Bool(nameof(Enabled), Enabled);
        ReconnectMinDelay = r.Time(nameof(ReconnectMinDelay), ReconnectMinDelay);
        ReconnectMaxDelay = r.Time(nameof(ReconnectMaxDelay), ReconnectMaxDelay);
        ConnectTimeout = r.Time(nameof(ConnectTimeout), ConnectTimeout);
        RequestTimeout = r.Time(nameof(RequestTimeout), RequestTimeout);
        MaxQueuedMessages = r.Int(nameof(MaxQueuedMessages), MaxQueuedMessages);
        MessageDelay = r.Time(nameof(MessageDelay), MessageDelay);
        MessageBurst = r.Int(nameof(MessageBurst), MessageBurst);
        MaxEventBytes = r.Int(nameof(MaxEventBytes), MaxEventBytes);
        DirectMessageTimeout = r.Time(nameof(DirectMessageTimeout), DirectMessageTimeout);
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first shared setting that cannot work.</summary>
    protected void ValidateCommon()
    {
        Check(ReconnectMinDelay > TimeSpan.Zero && ReconnectMaxDelay >= ReconnectMinDelay, "ReconnectMinDelay must be positive and at most ReconnectMaxDelay.");
        Check(ConnectTimeout > TimeSpan.Zero && RequestTimeout > TimeSpan.Zero, "ConnectTimeout and RequestTimeout must be positive.");
        Check(MaxQueuedMessages >= 1, "MaxQueuedMessages must be at least 1.");
        Check(MessageBurst >= 1, "MessageBurst must be at least 1.");
        Check(MessageDelay >= TimeSpan.Zero, "MessageDelay must not be negative.");
        Check(MaxEventBytes >= 64 * 1024, "MaxEventBytes must be at least 65536.");
        Check(DirectMessageTimeout > TimeSpan.Zero, "DirectMessageTimeout must be positive.");
    }

    /// <summary>Throws naming this section when <paramref name="ok"/> is false.</summary>
    protected void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"{SectionName}: {message}");
        }
    }

    /// <summary>Checks that <paramref name="url"/> is an absolute http(s) address (or ws(s) when <paramref name="webSocket"/>).</summary>
    protected void CheckUrl(Uri? url, string key, bool webSocket = false)
    {
        var schemes = webSocket ? new[] { "ws", "wss" } : [Uri.UriSchemeHttp, Uri.UriSchemeHttps];
        Check(url is { IsAbsoluteUri: true } && schemes.Contains(url.Scheme, StringComparer.Ordinal), $"{key} must be an absolute {string.Join(" or ", schemes)} address.");
    }
}

/// <summary>Reads typed settings; a malformed value names its key.</summary>
internal sealed class OptionsReader(IConfiguration section, string sectionName)
{
    public string? String(string key) => string.IsNullOrWhiteSpace(section[key]) ? null : section[key]!.Trim();

    public bool Bool(string key, bool fallback) => Parse(key, fallback, bool.Parse);

    public int Int(string key, int fallback) => Parse(key, fallback, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));

    public TimeSpan Time(string key, TimeSpan fallback) => Parse(key, fallback, s => TimeSpan.Parse(s, CultureInfo.InvariantCulture));

    public Uri? Url(string key, Uri? fallback) => Parse(key, fallback, s => Uri.TryCreate(s, UriKind.Absolute, out var u) ? u : throw new FormatException());

    /// <summary>A list from array entries (<c>Rooms:0</c>) or, for environment variables, one comma-separated value.</summary>
    public List<string> List(string key)
    {
        var list = section.GetSection(key).GetChildren().Select(c => c.Value).OfType<string>().ToList();
        if (list.Count == 0 && section[key] is { } joined)
        {
            list.AddRange(joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return list.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
    }

    private T Parse<T>(string key, T fallback, Func<string, T> parse)
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
            throw new InvalidOperationException($"{sectionName}:{key} '{value}' is not a valid {typeof(T).Name}.", ex);
        }
        catch (OverflowException ex)
        {
            throw new InvalidOperationException($"{sectionName}:{key} '{value}' is out of range.", ex);
        }
    }
}
