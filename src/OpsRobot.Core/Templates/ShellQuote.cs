using System.Text;

namespace OpsRobot.Core.Templates;

/// <summary>Quoting for POSIX shells: the one way a value from outside reaches a shell command line.</summary>
public static class ShellQuote
{
    /// <summary>
    /// Wraps <paramref name="value"/> in single quotes, writing each embedded single quote as <c>'\''</c>, so that
    /// <c>sh</c> reads it back as exactly one word with exactly these characters: no expansion, no substitution,
    /// no word splitting, newlines included. NUL cannot be passed to a process and is refused.
    /// </summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A value with a NUL character cannot be passed to a command.", nameof(value));
        }

        var sb = new StringBuilder(value.Length + 2);
        sb.Append('\'');
        foreach (var c in value)
        {
            if (c == '\'')
            {
                sb.Append("'\\''");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.Append('\'').ToString();
    }
}
