using Microsoft.Extensions.Configuration;
using OpsRobot.Chat.Connected;

namespace OpsRobot.Chat.Slack;

/// <summary>
/// The Slack adapter's settings, bound from <c>OpsRobot:Chat:Slack</c>. The tokens and the signing secret are
/// secrets: never logged, never shown in status.
/// </summary>
public sealed class SlackOptions : ChatConnectionOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "OpsRobot:Chat:Slack";

    /// <summary>
    /// The app-level token (<c>xapp-…</c>, scope <c>connections:write</c>) that opens Socket Mode connections.
    /// Without it, events arrive only over HTTP (<see cref="SigningSecret"/>). Secret.
    /// </summary>
    public string? AppToken { get; set; }

    /// <summary>The bot token (<c>xoxb-…</c>) for the Web API: posting, <c>auth.test</c>, <c>users.info</c>. Secret.</summary>
    public string? BotToken { get; set; }

    /// <summary>
    /// The app's signing secret. When set, OpsRobot also accepts Slack's HTTP deliveries (Events API and
    /// interactivity) at <see cref="EventsPath"/>, each verified with Slack's v0 request signature. Socket Mode
    /// needs no endpoint: leave this empty unless the app is configured with Request URLs. Secret.
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>
    /// Where Slack's HTTP deliveries arrive (Event Subscriptions and Interactivity Request URL: OpsRobot's public
    /// address plus this path). Outside <c>/api</c> because Slack sends interactions form-encoded.
    /// </summary>
    public const string EventsPath = "/chat/slack/events";

    /// <summary>The Web API's base address; only tests change it.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://slack.com/api/");

    protected override string SectionName => Section;

    public static SlackOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var o = new SlackOptions();
        o.ReadCommon(section);
        var r = new OptionsReader(section, Section);
        o.AppToken = r.String(nameof(AppToken));
        o.BotToken = r.String(nameof(BotToken));
        o.SigningSecret = r.String(nameof(SigningSecret));
        o.ApiBaseUrl = r.Url(nameof(ApiBaseUrl), o.ApiBaseUrl)!;
        return o;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        ValidateCommon();
        Check(!string.IsNullOrEmpty(AppToken) || !string.IsNullOrEmpty(SigningSecret), "AppToken (Socket Mode) or SigningSecret (HTTP deliveries) is required.");
        Check(string.IsNullOrEmpty(AppToken) || AppToken.StartsWith("xapp-", StringComparison.Ordinal), "AppToken must be an app-level token (xapp-…) with the connections:write scope.");
        Check(BotToken?.StartsWith("xoxb-", StringComparison.Ordinal) == true, "BotToken is required and must be a bot token (xoxb-…).");
        CheckUrl(ApiBaseUrl, nameof(ApiBaseUrl));
        Check(ApiBaseUrl.AbsoluteUri.EndsWith('/'), "ApiBaseUrl must end with a slash.");
    }
}
