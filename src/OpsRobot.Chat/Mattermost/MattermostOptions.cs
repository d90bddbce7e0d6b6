using Microsoft.Extensions.Configuration;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Rendering;

namespace OpsRobot.Chat.Mattermost;

/// <summary>
/// The Mattermost adapter's settings, bound from <c>OpsRobot:Chat:Mattermost</c>. <see cref="Token"/> and
/// <see cref="ActionSecret"/> are secrets: never logged, never shown in status.
/// </summary>
public sealed class MattermostOptions : ChatConnectionOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "OpsRobot:Chat:Mattermost";

    /// <summary>The path under OpsRobot's own address where Mattermost delivers button presses.</summary>
    public const string ActionPath = "/api/v1/chat/mattermost/actions";

    /// <summary>The Mattermost server's address (<c>https://chat.example.com/</c>).</summary>
    public Uri? ServerUrl { get; set; }

    /// <summary>The bot account's access token. Secret.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// The address at which Mattermost can reach OpsRobot for button presses: OpsRobot's public base address plus
    /// <see cref="ActionPath"/>. Without it, buttons are shown as commands to type.
    /// </summary>
    public Uri? ActionUrl { get; set; }

    /// <summary>
    /// The key that signs each button's context, so a press is proven to come from a button OpsRobot posted
    /// (Mattermost keeps the context from clients). Set it so buttons keep working across restarts; when empty, a
    /// random key is made at start. Secret.
    /// </summary>
    public string? ActionSecret { get; set; }

    /// <summary>The longest post (the server's <c>MaxPostSize</c>); longer replies are split.</summary>
    public int MaxPostLength { get; set; } = MattermostRenderer.DefaultPostLimit;

    protected override string SectionName => Section;

    public MattermostOptions()
    {
        // Mattermost's rate limiter (when on) allows 10 requests a second per user with a burst; stay well under.
        MessageDelay = TimeSpan.FromMilliseconds(250);
        MessageBurst = 5;
    }

    public static MattermostOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var o = new MattermostOptions();
        o.ReadCommon(section);
        var r = new OptionsReader(section, Section);
        o.ServerUrl = r.Url(nameof(ServerUrl), null);
        o.Token = r.String(nameof(Token));
        o.ActionUrl = r.Url(nameof(ActionUrl), null);
        o.ActionSecret = r.String(nameof(ActionSecret));
        o.MaxPostLength = r.Int(nameof(MaxPostLength), o.MaxPostLength);
        return o;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        ValidateCommon();
        CheckUrl(ServerUrl, nameof(ServerUrl));
        Check(!string.IsNullOrWhiteSpace(Token), "Token (the bot account's access token) is required.");
        if (ActionUrl is not null)
        {
            CheckUrl(ActionUrl, nameof(ActionUrl));
        }

        Check(ActionSecret is null || ActionSecret.Length >= 16, "ActionSecret must be at least 16 characters.");
        Check(MaxPostLength is >= 256 and <= 65535, $"MaxPostLength {MaxPostLength} must be between 256 and 65535.");
    }
}
