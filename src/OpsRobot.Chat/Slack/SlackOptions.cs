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

    /// <summary>The app-level token (<c>xapp-…</c>, scope <c>connections:write</c>) that opens Socket Mode connections. Secret.</summary>
    public string? AppToken { get; set; }

    /// <summary>The bot token (<c>xoxb-…</c>) for the Web API: posting, <c>auth.test</c>, <c>users.info</c>. Secret.</summary>
    public string? BotToken { get; set; }

    /// <summary>
    /// The app's signing secret, to verify requests Slack sends to an HTTP endpoint (v0 HMAC-SHA256). Socket Mode
    /// needs no endpoint; this is only used when one is exposed. Secret.
    /// </summary>
    public string? SigningSecret { get; set; }

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
        Check(AppToken?.StartsWith("xapp-", StringComparison.Ordinal) == true, "AppToken is required and must be an app-level token (xapp-…) with the connections:write scope.");
        Check(BotToken?.StartsWith("xoxb-", StringComparison.Ordinal) == true, "BotToken is required and must be a bot token (xoxb-…).");
        CheckUrl(ApiBaseUrl, nameof(ApiBaseUrl));
        Check(ApiBaseUrl.AbsoluteUri.EndsWith('/'), "ApiBaseUrl must end with a slash.");
    }
}
