using System.Globalization;
using System.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>Durations as people type them in chat: <c>90s</c>, <c>30m</c>, <c>2h</c>, <c>1h30m</c>, <c>1d</c>, <c>1w</c>.</summary>
public static class NagiosDuration
{
    /// <summary>Parses a duration; false for anything else (a plain number without a unit is refused: minutes or hours?).</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 32)
        {
            return false;
        }

        var span = text.Trim().AsSpan();
        long seconds = 0;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && char.IsAsciiDigit(span[digits]))
            {
                digits++;
            }

            if (digits == 0 || digits > 6 || digits == span.Length)
            {
                return false;
            }

            var number = long.Parse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
            var unit = char.ToLowerInvariant(span[digits]);
            seconds += unit switch
            {
                's' => number,
                'm' => number * 60,
                'h' => number * 3600,
                'd' => number * 86400,
                'w' => number * 604800,
                _ => -1L,
            };
            if (unit is not ('s' or 'm' or 'h' or 'd' or 'w'))
            {
                return false;
            }

            span = span[(digits + 1)..];
        }

        duration = TimeSpan.FromSeconds(seconds);
        return seconds > 0;
    }

    /// <summary><c>2h</c>, <c>1h30m</c>, <c>3d</c>: the shortest form that says the duration exactly (to the second).</summary>
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)Math.Round(Math.Abs(duration.TotalSeconds));
        if (seconds == 0)
        {
            return "0s";
        }

        var text = new StringBuilder();
        foreach (var (unit, size) in new[] { ("d", 86400L), ("h", 3600L), ("m", 60L), ("s", 1L) })
        {
            if (seconds >= size)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / size}{unit}");
                seconds %= size;
            }
        }

        return text.ToString();
    }
}
