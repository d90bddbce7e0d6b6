using System.Globalization;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Alerts;

/// <summary>How alerts read in a room: one line per alert, the short id first so people can type it.</summary>
public static class AlertText
{
    /// <summary>One line for a notice.</summary>
    public static string Line(AlertNotice notice, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var a = notice.Alert;
        var what = Describe(a);
        return notice.Kind switch
        {
            AlertNoticeKind.Firing => $"**{a.ShortId} FIRING** {Severity(a)}{what}{Summary(a)} · since {Clock(a.Since)}{Link(a)}",
            AlertNoticeKind.Resolved => $"**{a.ShortId} RESOLVED** {what} · fired for {Span(notice.FiredFor ?? TimeSpan.Zero)}{Link(a)}",
            AlertNoticeKind.Flapping => $"**{a.ShortId} FLAPPING** {Severity(a)}{what} changed state {a.RecentChanges.Count.ToString(CultureInfo.InvariantCulture)} times since {Clock(a.RecentChanges.Count > 0 ? a.RecentChanges[0] : a.Since)}; I will say nothing more about it until it settles (now {Status(a)}){Link(a)}",
            AlertNoticeKind.Settled => $"**{a.ShortId} SETTLED** {what} stopped flapping: {Status(a)} since {Clock(a.Since)}{Link(a)}",
            _ => what,
        } + Handled(a, now);
    }

    /// <summary>One line for <c>!alerts</c>.</summary>
    public static string Row(AlertState a, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(a);
        return $"**{a.ShortId}** {Severity(a)}{Describe(a)}{Summary(a)} · firing for {Span(now - a.Since)}{(a.Flapping ? " · flapping" : string.Empty)}{Handled(a, now)}";
    }

    /// <summary>A duration as people say it: <c>45s</c>, <c>12m</c>, <c>3h 5m</c>, <c>2d 4h</c>.</summary>
    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds}s"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m"
            : span.TotalDays < 1 ? (span.Minutes == 0 ? $"{(int)span.TotalHours}h" : $"{(int)span.TotalHours}h {span.Minutes}m")
            : span.Hours == 0 ? $"{(int)span.TotalDays}d" : $"{(int)span.TotalDays}d {span.Hours}h";
    }

    private static string Describe(AlertState a) =>
        Markdown.Code(a.Name) + (a.Host is { } host ? $" on {Markdown.Code(host)}" : string.Empty) + (a.Node is { } node ? $" ({node})" : string.Empty);

    private static string Severity(AlertState a) => a.Severity is { } s ? $"[{Escape(s)}] " : string.Empty;

    private static string Summary(AlertState a) => a.Summary is { } s ? ": " + Escape(s.Length > 300 ? s[..300] + "…" : s) : string.Empty;

    private static string Status(AlertState a) => a.Status == AlertStatus.Firing ? "firing" : "resolved";

    private static string Link(AlertState a) =>
        a.Url is { } url ? $" · [source]({url.Replace("(", "%28", StringComparison.Ordinal).Replace(")", "%29", StringComparison.Ordinal).Replace(" ", "%20", StringComparison.Ordinal)})" : string.Empty;

    private static string Handled(AlertState a, DateTimeOffset now)
    {
        var parts = new List<string>();
        if (a.AckedBy is { } by)
        {
            parts.Add($"acked by {Escape(by)}");
        }

        if (a.IsSilenced(now))
        {
            parts.Add($"silenced by {Escape(a.SilencedBy ?? "someone")} until {Clock(a.SilencedUntil!.Value)}");
        }

        return parts.Count == 0 ? string.Empty : " · " + string.Join(", ", parts);
    }

    private static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Alert text comes from outside: keep it from opening Markdown constructs (links, code, emphasis) or pinging.</summary>
    internal static string Escape(string text)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                sb.Append(' ');
                continue;
            }

            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#' or '|' or '~' or '@')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
