using Microsoft.Extensions.Configuration;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Rendering;

namespace OpsRobot.Chat.RocketChat;

/// <summary>
/// The Rocket.Chat adapter's settings, bound from <c>OpsRobot:Chat:RocketChat</c>. Sign in either with a personal
/// access token (<see cref="UserId"/> + <see cref="AuthToken"/>, preferred) or with <see cref="Username"/> +
/// <see cref="Password"/>. <see cref="AuthToken"/> and <see cref="Password"/> are secrets: never logged.
/// </summary>
public sealed class RocketChatOptions : ChatConnectionOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "OpsRobot:Chat:RocketChat";

    /// <summary>The Rocket.Chat server's address (<c>https://chat.example.com/</c>).</summary>
    public Uri? ServerUrl { get; set; }

    /// <summary>The bot user's id, for a personal access token.</summary>
    public string? UserId { get; set; }

    /// <summary>A personal access token of the bot user. Secret.</summary>
    public string? AuthToken { get; set; }

    /// <summary>The bot user's name, for password sign-in.</summary>
    public string? Username { get; set; }

    /// <summary>The bot user's password, for password sign-in. Secret.</summary>
    public string? Password { get; set; }

    /// <summary>The server's <c>Message_MaxAllowedSize</c>; longer replies are split.</summary>
    public int MaxMessageLength { get; set; } = RocketChatRenderer.DefaultMessageLimit;

    protected override string SectionName => Section;

    public RocketChatOptions()
    {
        // Rocket.Chat's REST rate limiter is strict by default for accounts without api-bypass-rate-limit.
        MessageDelay = TimeSpan.FromMilliseconds(500);
        MessageBurst = 3;
    }

    public static RocketChatOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var o = new RocketChatOptions();
        o.ReadCommon(section);
        var r = new OptionsReader(section, Section);
        o.ServerUrl = r.Url(nameof(ServerUrl), null);
        o.UserId = r.String(nameof(UserId));
        o.AuthToken = r.String(nameof(AuthToken));
        o.Username = r.String(nameof(Username));
        o.Password = r.String(nameof(Password));
        o.MaxMessageLength = r.Int(nameof(MaxMessageLength), o.MaxMessageLength);
        return o;
    }

    /// <summary>True when signing in with a personal access token rather than a password.</summary>
    public bool UsesAccessToken => !string.IsNullOrEmpty(AuthToken);

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        ValidateCommon();
        CheckUrl(ServerUrl, nameof(ServerUrl));
        var token = !string.IsNullOrEmpty(UserId) && !string.IsNullOrEmpty(AuthToken);
        var password = !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
        Check(token || password, "set UserId and AuthToken (a personal access token), or Username and Password.");
        Check(!(token && password), "set either UserId and AuthToken or Username and Password, not both.");
        Check(MaxMessageLength is >= 256 and <= 1_000_000, $"MaxMessageLength {MaxMessageLength} must be between 256 and 1000000.");
    }
}
