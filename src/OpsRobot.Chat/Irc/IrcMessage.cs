using System.Text;

namespace OpsRobot.Chat.Irc;

/// <summary>
/// One IRC line as RFC 1459/2812 write it: <c>[:prefix] COMMAND params [:trailing]</c>. IRCv3 tags are skipped
/// (the adapter never asks for them).
/// </summary>
/// <param name="Prefix">The sender (<c>nick!user@host</c> or a server name), or null.</param>
/// <param name="Command">The command or three-digit numeric, upper case.</param>
/// <param name="Parameters">The parameters, the trailing one last.</param>
internal sealed record IrcMessage(string? Prefix, string Command, IReadOnlyList<string> Parameters)
{
    /// <summary>The nick part of the prefix (before <c>!</c> or <c>@</c>), or null when there is no prefix.</summary>
    public string? Nick => Prefix is null ? null : Prefix[..IndexOrLength(Prefix)];

    public string Param(int index) => index < Parameters.Count ? Parameters[index] : string.Empty;

    /// <summary>Parses one line (without its CR LF); null when it is not an IRC message.</summary>
    public static IrcMessage? TryParse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var span = line.AsSpan().TrimEnd("\r\n");
        if (span.IndexOfAny('\r', '\n', '\0') >= 0)
        {
            return null;
        }

        if (span.StartsWith("@"))
        {
            var end = span.IndexOf(' ');
            if (end < 0)
            {
                return null;
            }

            span = span[(end + 1)..].TrimStart(' ');
        }

        string? prefix = null;
        if (span.StartsWith(":"))
        {
            var end = span.IndexOf(' ');
            if (end <= 1)
            {
                return null;
            }

            prefix = span[1..end].ToString();
            span = span[(end + 1)..].TrimStart(' ');
        }

        var commandEnd = span.IndexOf(' ');
        var command = commandEnd < 0 ? span : span[..commandEnd];
        if (!IsCommand(command))
        {
            return null;
        }

        span = commandEnd < 0 ? [] : span[(commandEnd + 1)..];
        var parameters = new List<string>();
        while (true)
        {
            span = span.TrimStart(' ');
            if (span.IsEmpty)
            {
                break;
            }

            // RFC 2812 allows 15 parameters; the 15th takes the rest of the line even without a colon.
            if (span[0] == ':' || parameters.Count == 14)
            {
                parameters.Add((span[0] == ':' ? span[1..] : span).ToString());
                break;
            }

            var end = span.IndexOf(' ');
            parameters.Add((end < 0 ? span : span[..end]).ToString());
            span = end < 0 ? [] : span[end..];
        }

        return new IrcMessage(prefix, command.ToString().ToUpperInvariant(), parameters);
    }

    /// <summary>
    /// Writes a line to send. Every parameter is checked: a line break or NUL (which would start a second command)
    /// or a space in a middle parameter is a bug in the caller, not something to send.
    /// </summary>
    public static string Format(string command, params string[] parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        ArgumentNullException.ThrowIfNull(parameters);
        var sb = new StringBuilder(command);
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                throw new ArgumentException($"IRC parameter {i} contains a line break or NUL.", nameof(parameters));
            }

            var last = i == parameters.Length - 1;
            if (!last && (p.Length == 0 || p.Contains(' ', StringComparison.Ordinal) || p[0] == ':'))
            {
                throw new ArgumentException($"IRC parameter {i} is empty, has a space or starts with ':'; only the last may.", nameof(parameters));
            }

            sb.Append(' ');
            if (last && (p.Length == 0 || p.Contains(' ', StringComparison.Ordinal) || p[0] == ':'))
            {
                sb.Append(':');
            }

            sb.Append(p);
        }

        return sb.ToString();
    }

    private static bool IsCommand(ReadOnlySpan<char> command)
    {
        if (command.Length == 3 && char.IsAsciiDigit(command[0]) && char.IsAsciiDigit(command[1]) && char.IsAsciiDigit(command[2]))
        {
            return true;
        }

        if (command.IsEmpty)
        {
            return false;
        }

        foreach (var c in command)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int IndexOrLength(string prefix)
    {
        var i = prefix.AsSpan().IndexOfAny('!', '@');
        return i < 0 ? prefix.Length : i;
    }
}

/// <summary>Names and checks of the protocol.</summary>
internal static class IrcProtocol
{
    /// <summary>Channel names start with one of these (RFC 2812 section 1.3).</summary>
    public static bool IsChannelName(string target) => target.Length > 1 && target[0] is '#' or '&' or '+' or '!';

    /// <summary>A target a PRIVMSG can be sent to without bending the line: no space, comma, control character or leading colon.</summary>
    public static bool IsValidTarget(string target) =>
        !string.IsNullOrEmpty(target) && target.Length <= 200 && target[0] != ':' && !target.Any(c => c is ' ' or ',' || char.IsControl(c));

    /// <summary>RFC 2812's nick grammar: a letter or special first, then letters, digits, specials and '-'.</summary>
    public static bool IsValidNick(string nick)
    {
        if (string.IsNullOrEmpty(nick) || nick.Length > 30 || !(char.IsAsciiLetter(nick[0]) || IsSpecial(nick[0])))
        {
            return false;
        }

        return nick.All(c => char.IsAsciiLetterOrDigit(c) || IsSpecial(c) || c == '-');
    }

    /// <summary>
    /// Nick comparison under the rfc1459 case mapping most servers (ngircd included) use: <c>[]\~</c> are the upper
    /// case of <c>{}|^</c>.
    /// </summary>
    public static bool NickEquals(string? a, string? b)
    {
        if (a is null || b is null || a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (Fold(a[i]) != Fold(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static char Fold(char c) => c switch
    {
        '{' => '[',
        '}' => ']',
        '|' => '\\',
        '^' => '~',
        _ => char.ToUpperInvariant(c),
    };

    private static bool IsSpecial(char c) => c is '[' or ']' or '\\' or '`' or '_' or '^' or '{' or '|' or '}';
}
