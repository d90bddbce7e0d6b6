using System.Text.RegularExpressions;

namespace OpsRobot.Chat.Slack;

/// <summary>
/// Slack's incoming text as the robot reads it: the bot's own mention (<c>&lt;@U123&gt;</c>) becomes
/// <c>@robotname</c>, so "@opsrobot ping" is addressed as anywhere else; other mentions, channels and links are
/// unwrapped to what the person saw; <c>&amp;amp; &amp;lt; &amp;gt;</c> are unescaped last, so an escaped
/// <c>&lt;</c> typed by a person cannot become markup.
/// </summary>
internal static partial class SlackText
{
    public static string ToPlain(string text, string? botUserId, string robotName)
    {
        var result = SpecialPattern().Replace(text, m =>
        {
            var body = m.Groups["body"].Value;
            var label = m.Groups["label"].Success ? m.Groups["label"].Value : null;
            return body[0] switch
            {
                '@' when botUserId is not null && body[1..] == botUserId => "@" + robotName,
                '@' => "@" + (label ?? body[1..]),
                '#' => "#" + (label ?? body[1..]),
                '!' => "@" + (label ?? body[1..].Split('^')[0]),
                _ => body,
            };
        });
        return result.Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"<(?<body>[^|<>\s][^|<>]{0,2000}?)(\|(?<label>[^<>]{0,500}))?>", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SpecialPattern();
}
