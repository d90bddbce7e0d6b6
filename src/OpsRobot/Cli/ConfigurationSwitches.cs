using System.CommandLine;
using OpsRobot.Hosting;

namespace OpsRobot.Cli;

/// <summary>
/// The ASP.NET Core configuration switches <c>serve</c> and <c>shell</c> pass to their host
/// (<c>--OpsRobot:Listen=http://…</c>, <c>--OpsRobot:RobotName hal</c>, <c>/OpsRobot:Key=value</c>). Every
/// OpsRobot setting lives under a section, so a key without a <c>:</c> (<c>--lisen</c>, <c>--secert</c>) is a
/// mistyped option, never a setting: it is refused instead of becoming a configuration key nothing reads.
/// </summary>
internal static class ConfigurationSwitches
{
    /// <summary>Whether <paramref name="token"/> starts a configuration switch (<c>--Section:Key…</c> or <c>/Section:Key…</c>).</summary>
    public static bool IsSwitch(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Key(token) is { } key && key.Contains(':', StringComparison.Ordinal);
    }

    /// <summary>
    /// The tokens of <paramref name="result"/> that its command did not declare, checked to be configuration
    /// switches and their values; throws a <see cref="StartupException"/> naming the first that is not.
    /// </summary>
    public static string[] Of(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tokens = result.UnmatchedTokens;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!IsSwitch(token))
            {
                throw new StartupException(Refusal(result.CommandResult.Command, token));
            }

            if (!token.Contains('=', StringComparison.Ordinal))
            {
                // "--OpsRobot:Key value": the next token is the value, whatever it looks like.
                i++;
            }
        }

        return [.. tokens];
    }

    private static string Refusal(Command command, string token) =>
        $"{ParseErrors.Describe(command, token)} Settings are written --OpsRobot:Key=value; '{ParseErrors.Verb(command)} --help' lists the options.";

    /// <summary>The key of a switch, or null when <paramref name="token"/> is not one.</summary>
    private static string? Key(string token)
    {
        var body = token.StartsWith("--", StringComparison.Ordinal) ? token[2..]
            : token.StartsWith('/') ? token[1..]
            : null;
        if (body is null)
        {
            return null;
        }

        var equals = body.IndexOf('=', StringComparison.Ordinal);
        var key = equals < 0 ? body : body[..equals];
        return key.Length == 0 ? null : key;
    }
}
