using System.Globalization;
using System.Text;

namespace OpsRobot.Core.Text;

/// <summary>
/// Durations as operators type them in chat and on the command line: a whole number and a unit (<c>s</c>, <c>m</c>,
/// <c>h</c>, <c>d</c>, <c>w</c>, either case), or several run together (<c>1h30m</c>). The one reader of such durations
/// for silences, downtimes and key TTLs, so that a form that works in one place works in all.
/// </summary>
public static class DurationText
{
    /// <summary>The longest duration read, 3650 days: anything longer is a typo, and far longer ones overflow a date.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    /// <summary>Longer text is refused unread (<c>1w6d23h59m59s</c> is 13 characters).</summary>
    private const int MaxLength = 32;

    /// <summary>At most this many digits a number (<c>2592000s</c>, thirty days in seconds, has seven).</summary>
    private const int MaxDigits = 8;

    private static readonly (string Unit, long Seconds)[] Units = [("d", 86400L), ("h", 3600L), ("m", 60L), ("s", 1L)];

    /// <summary>
    /// Reads <paramref name="text"/> (spaces around it ignored, none inside) as a duration longer than zero and at
    /// most <see cref="Longest"/>; false for anything else. A number without a unit is refused: minutes or hours?
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty || span.Length > MaxLength)
        {
            return false;
        }

        var longest = (long)Longest.TotalSeconds;
        long seconds = 0;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && char.IsAsciiDigit(span[digits]))
            {
                digits++;
            }

            if (digits == 0 || digits > MaxDigits || digits == span.Length)
            {
                return false;
            }

            var number = long.Parse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
            long size = char.ToLowerInvariant(span[digits]) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                'w' => 604800,
                _ => 0,
            };

            // Eight digits times a week's seconds fits a long many times over; the sum is checked at every step.
            seconds += number * size;
            if (size == 0 || seconds > longest)
            {
                return false;
            }

            span = span[(digits + 1)..];
        }

        duration = TimeSpan.FromSeconds(seconds);
        return seconds > 0;
    }

    /// <summary>The duration in <paramref name="text"/>, or null when <see cref="TryParse"/> refuses it.</summary>
    public static TimeSpan? Parse(string? text) => TryParse(text, out var duration) ? duration : null;

    /// <summary>
    /// The one answer to text that is not a duration. The text is shown cut short, control characters replaced, in
    /// a code span: it may come from chat, where it must not turn into a link or formatting in the robot's reply.
    /// <paramref name="longest"/> is the longest the caller takes (by default <see cref="Longest"/>), so the answer
    /// never names a bound the caller would then refuse.
    /// </summary>
    public static string NotADuration(string? text, TimeSpan? longest = null) =>
        $"{Markdown.Code(Shown(text ?? string.Empty))} is not a duration: write it like 90s, 30m, 2h, 1h30m, 1d or 1w (at most {Format(longest ?? Longest)}).";

    /// <summary><c>2h</c>, <c>1h30m</c>, <c>3d</c>: the shortest form that says the duration exactly (to the second), and that <see cref="TryParse"/> reads back.</summary>
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)Math.Round(Math.Abs(duration.TotalSeconds));
        if (seconds == 0)
        {
            return "0s";
        }

        var text = new StringBuilder();
        foreach (var (unit, size) in Units)
        {
            if (seconds >= size)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / size}{unit}");
                seconds %= size;
            }
        }

        return text.ToString();
    }

    private static string Shown(string text)
    {
        var cut = text.Length > MaxLength ? text[..MaxLength] + "…" : text;
        return new string([.. cut.Select(c => char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format ? '?' : c)]);
    }
}
