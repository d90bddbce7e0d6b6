using System.Globalization;
using System.Text;
using OpsRobot.Core.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// The chat answers for status and problems, in Markdown. Plugin output comes from the monitored machines, so it
/// is always shown inside a code span or an escaped table cell, never as Markdown of its own.
/// </summary>
internal sealed class NagiosCards(NagiosOptions options, DateTimeOffset now)
{
    public string Overview(NagiosStatus status)
    {
        var text = new StringBuilder();
        var problems = status.Services.Count(s => s.IsProblem);
        text.Append(CultureInfo.InvariantCulture, $"**Nagios**: {status.Hosts.Count} hosts, {status.Services.Count} services, {status.Hosts.Count(h => h.IsProblem)} hosts down or unreachable, {problems} service problems.");
        AppendStale(text, status);
        var rows = status.Hosts.OrderBy(h => h.IsProblem ? 0 : 1).ThenBy(h => h.Name, StringComparer.Ordinal)
            .Take(options.MaxListed)
            .Select(h => (IReadOnlyList<string>)[h.Name, h.StateName, status.ServicesOf(h.Name).Count(s => s.IsProblem).ToString(CultureInfo.InvariantCulture), Flags(h.Acknowledged, h.DowntimeDepth, h.NotificationsEnabled)])
            .ToList();
        if (rows.Count > 0)
        {
            text.Append("\n\n").Append(Markdown.Table(["host", "state", "service problems", "handled"], rows));
        }

        AppendMore(text, status.Hosts.Count);
        return text.ToString();
    }

    public string Host(NagiosStatus status, NagiosHostStatus host)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"**{host.Name}** is {host.StateName}{Hardness(host.HasBeenChecked, host.IsHardState)}{Since(host.LastStateChange)}: {Markdown.Code(Output(host.Output))}");
        AppendDetails(text, status, host.Name, null, host.LastCheck, host.Acknowledged, host.NotificationsEnabled);
        AppendStale(text, status);
        var services = status.ServicesOf(host.Name).OrderBy(s => Severity(s)).ThenBy(s => s.Description, StringComparer.Ordinal).ToList();
        if (services.Count > 0)
        {
            var rows = services.Take(options.MaxListed).Select(s => (IReadOnlyList<string>)
                [s.Description, s.StateName, Markdown.Code(Output(s.Output)), Ago(s.LastCheck), Flags(s.Acknowledged, s.DowntimeDepth, s.NotificationsEnabled)]);
            text.Append("\n\n").Append(Markdown.Table(["service", "state", "output", "last check", "handled"], rows));
            AppendMore(text, services.Count);
        }

        var downtimes = status.Downtimes.Where(d => string.Equals(d.Host, host.Name, StringComparison.Ordinal)).ToList();
        if (downtimes.Count > 0)
        {
            text.Append("\n\nDowntimes:");
            foreach (var d in downtimes)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n- #{d.Id} {(d.Service is null ? "host" : d.Service)}: {Time(d.Start)} to {Time(d.End)}{(d.InEffect ? " (in effect)" : string.Empty)}, {d.Author}: {Markdown.Code(d.Comment)}");
            }
        }

        AppendLink(text, host.Name, null);
        return text.ToString();
    }

    public string Service(NagiosStatus status, NagiosServiceStatus service)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"**{service.Host}/{service.Description}** is {service.StateName}{Hardness(service.HasBeenChecked, service.IsHardState)}{Since(service.LastStateChange)}: {Markdown.Code(Output(service.Output))}");
        AppendDetails(text, status, service.Host, service.Description, service.LastCheck, service.Acknowledged, service.NotificationsEnabled);
        AppendStale(text, status);
        AppendLink(text, service.Host, service.Description);
        return text.ToString();
    }

    public (string Text, int Count) Problems(NagiosStatus status)
    {
        var hosts = status.Hosts.Where(h => h.IsProblem).OrderBy(h => h.Name, StringComparer.Ordinal)
            .Select(h => (Order: 0, Row: (IReadOnlyList<string>)[h.Name, h.StateName + Hardness(true, h.IsHardState), Markdown.Code(Output(h.Output)), Ago(h.LastStateChange), Handled(status, h.Name, null, h.Acknowledged, h.DowntimeDepth)]));
        var services = status.Services.Where(s => s.IsProblem)
            .OrderBy(Severity).ThenBy(s => s.Host, StringComparer.Ordinal).ThenBy(s => s.Description, StringComparer.Ordinal)
            .Select(s => (Order: 1, Row: (IReadOnlyList<string>)[$"{s.Host}/{s.Description}", s.StateName + Hardness(true, s.IsHardState), Markdown.Code(Output(s.Output)), Ago(s.LastStateChange), Handled(status, s.Host, s.Description, s.Acknowledged, s.DowntimeDepth)]));
        var all = hosts.Concat(services).ToList();
        var text = new StringBuilder();
        if (all.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"No problems: {status.Hosts.Count} hosts and {status.Services.Count} services are UP or OK.");
            AppendStale(text, status);
            return (text.ToString(), 0);
        }

        var unhandled = status.Hosts.Count(h => h.IsProblem && !h.Acknowledged && h.DowntimeDepth == 0) + status.Services.Count(s => s.IsProblem && !s.Acknowledged && s.DowntimeDepth == 0);
        text.Append(CultureInfo.InvariantCulture, $"**{all.Count} problem{(all.Count == 1 ? string.Empty : "s")}** in Nagios, {unhandled} not acknowledged nor in downtime:");
        AppendStale(text, status);
        text.Append("\n\n").Append(Markdown.Table(["what", "state", "output", "since", "handled"], all.Take(options.MaxListed).Select(x => x.Row)));
        AppendMore(text, all.Count);
        return (text.ToString(), all.Count);
    }

    private void AppendDetails(StringBuilder text, NagiosStatus status, string host, string? service, DateTimeOffset? lastCheck, bool acknowledged, bool notifications)
    {
        text.Append(CultureInfo.InvariantCulture, $"\nLast check: {(lastCheck is { } at ? $"{Time(at)} ({Ago(at)})" : "never")}");
        if (acknowledged)
        {
            var ack = status.AcknowledgementOf(host, service);
            text.Append(ack is null ? " · acknowledged" : $" · acknowledged by {ack.Author}: {Markdown.Code(ack.Text)}");
        }
        else
        {
            text.Append(" · not acknowledged");
        }

        var downtimes = status.DowntimesOf(host, service).Where(d => d.InEffect).ToList();
        text.Append(downtimes.Count == 0
            ? " · not in downtime"
            : " · in downtime " + string.Join(", ", downtimes.Select(d => $"#{d.Id} until {Time(d.End)} ({d.Author})")));
        if (!notifications)
        {
            text.Append(" · notifications off");
        }
    }

    private void AppendStale(StringBuilder text, NagiosStatus status)
    {
        if (status.Written is { } written && now - written > options.StaleAfter)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n⚠ Nagios wrote this status {DurationText.Format(now - written)} ago: is Nagios running?");
        }
    }

    private void AppendMore(StringBuilder text, int count)
    {
        if (count > options.MaxListed)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n…and {count - options.MaxListed} more.");
        }
    }

    private void AppendLink(StringBuilder text, string host, string? service)
    {
        if (string.IsNullOrWhiteSpace(options.WebUrl))
        {
            return;
        }

        var query = service is null
            ? $"type=1&host={Uri.EscapeDataString(host)}"
            : $"type=2&host={Uri.EscapeDataString(host)}&service={Uri.EscapeDataString(service)}";
        text.Append(CultureInfo.InvariantCulture, $"\n{options.WebUrl.TrimEnd('/')}/cgi-bin/extinfo.cgi?{query}");
    }

    private static string Handled(NagiosStatus status, string host, string? service, bool acknowledged, int downtimeDepth)
    {
        var parts = new List<string>();
        if (acknowledged)
        {
            parts.Add(status.AcknowledgementOf(host, service) is { } ack ? $"acked by {ack.Author}" : "acked");
        }

        if (downtimeDepth > 0)
        {
            parts.Add("in downtime");
        }

        return parts.Count == 0 ? "no" : string.Join(", ", parts);
    }

    private static string Flags(bool acknowledged, int downtimeDepth, bool notifications)
    {
        var parts = new List<string>();
        if (acknowledged)
        {
            parts.Add("acked");
        }

        if (downtimeDepth > 0)
        {
            parts.Add("in downtime");
        }

        if (!notifications)
        {
            parts.Add("notifications off");
        }

        return parts.Count == 0 ? "-" : string.Join(", ", parts);
    }

    /// <summary>Host problems first, then CRITICAL, UNKNOWN, WARNING, PENDING, OK.</summary>
    private static int Severity(NagiosServiceStatus s) => !s.HasBeenChecked ? 4 : s.State switch { 2 => 0, 3 => 1, 1 => 2, _ => 5 };

    private static string Hardness(bool checkedYet, bool hard) => !checkedYet || hard ? string.Empty : " (soft)";

    private string Since(DateTimeOffset? changed) => changed is { } at ? $" for {DurationText.Format(Round(now - at))}" : string.Empty;

    private string Ago(DateTimeOffset? at) => at is { } t ? (now - t < TimeSpan.FromSeconds(1) ? "just now" : $"{DurationText.Format(Round(now - t))} ago") : "never";

    private static TimeSpan Round(TimeSpan span) =>
        span < TimeSpan.Zero ? TimeSpan.Zero
        : span < TimeSpan.FromHours(1) ? TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds))
        : TimeSpan.FromMinutes(Math.Floor(span.TotalMinutes));

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Output(string output) => output.Length > 300 ? output[..300] + "…" : output;
}
