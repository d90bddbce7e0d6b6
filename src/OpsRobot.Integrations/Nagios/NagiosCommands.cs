using System.Globalization;

namespace OpsRobot.Integrations.Nagios;

/// <summary>A host, or one service of it: what a command acts on. Both names are checked by <see cref="NagiosInput"/>.</summary>
public sealed record NagiosTarget
{
    private NagiosTarget(string host, string? service)
    {
        Host = host;
        Service = service;
    }

    public string Host { get; }

    /// <summary>The service description, or null for the host itself.</summary>
    public string? Service { get; }

    public bool IsService => Service is not null;

    /// <summary>A checked target; an empty service means the host.</summary>
    /// <exception cref="NagiosException">A name Nagios could not have, or that could break the command line.</exception>
    public static NagiosTarget Of(string? host, string? service = null) =>
        new(NagiosInput.Host(host), string.IsNullOrWhiteSpace(service) ? null : NagiosInput.Service(service));

    /// <summary><c>web01</c> or <c>web01/disk</c>, for people.</summary>
    public override string ToString() => Service is null ? Host : $"{Host}/{Service}";
}

/// <summary>
/// The external commands OpsRobot sends, as lines of the command file (<c>[epoch] NAME;arg;arg</c>). Every
/// argument arrives checked (<see cref="NagiosTarget"/>, <see cref="NagiosInput"/>); numbers are formatted here.
/// </summary>
public static class NagiosCommands
{
    /// <summary>ACKNOWLEDGE_HOST_PROBLEM / ACKNOWLEDGE_SVC_PROBLEM.</summary>
    /// <param name="target">What to acknowledge.</param>
    /// <param name="sticky">Keep the acknowledgement until the host or service is OK again (not just until the state changes).</param>
    /// <param name="notify">Send an acknowledgement notification to the contacts.</param>
    /// <param name="persistent">Keep the acknowledgement's comment across Nagios restarts.</param>
    /// <param name="author">Who acknowledged.</param>
    /// <param name="comment">Why.</param>
    public static string Acknowledge(NagiosTarget target, bool sticky, bool notify, bool persistent, string author, string comment)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Join(
            target.IsService ? "ACKNOWLEDGE_SVC_PROBLEM" : "ACKNOWLEDGE_HOST_PROBLEM",
            [.. Names(target), sticky ? "2" : "1", Bit(notify), Bit(persistent), NagiosInput.Author(author), NagiosInput.Comment(comment)]);
    }

    /// <summary>REMOVE_HOST_ACKNOWLEDGEMENT / REMOVE_SVC_ACKNOWLEDGEMENT.</summary>
    public static string RemoveAcknowledgement(NagiosTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Join(target.IsService ? "REMOVE_SVC_ACKNOWLEDGEMENT" : "REMOVE_HOST_ACKNOWLEDGEMENT", Names(target));
    }

    /// <summary>SCHEDULE_HOST_DOWNTIME / SCHEDULE_SVC_DOWNTIME, fixed, from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public static string ScheduleFixedDowntime(NagiosTarget target, DateTimeOffset start, DateTimeOffset end, string author, string comment)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (end <= start)
        {
            throw new NagiosException("A downtime must end after it starts.");
        }

        var duration = (long)(end - start).TotalSeconds;
        return Join(
            target.IsService ? "SCHEDULE_SVC_DOWNTIME" : "SCHEDULE_HOST_DOWNTIME",
            [.. Names(target), Epoch(start), Epoch(end), "1", "0", duration.ToString(CultureInfo.InvariantCulture), NagiosInput.Author(author), NagiosInput.Comment(comment)]);
    }

    /// <summary>DEL_HOST_DOWNTIME / DEL_SVC_DOWNTIME: Nagios keeps the two kinds apart, so the caller says which.</summary>
    public static string DeleteDowntime(NagiosDowntime downtime)
    {
        ArgumentNullException.ThrowIfNull(downtime);
        return Join(downtime.Service is null ? "DEL_HOST_DOWNTIME" : "DEL_SVC_DOWNTIME", [downtime.Id.ToString(CultureInfo.InvariantCulture)]);
    }

    /// <summary>SCHEDULE_FORCED_HOST_CHECK / SCHEDULE_FORCED_SVC_CHECK at <paramref name="when"/> (now, in practice).</summary>
    public static string ForcedCheck(NagiosTarget target, DateTimeOffset when)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Join(target.IsService ? "SCHEDULE_FORCED_SVC_CHECK" : "SCHEDULE_FORCED_HOST_CHECK", [.. Names(target), Epoch(when)]);
    }

    /// <summary>ENABLE_/DISABLE_HOST_NOTIFICATIONS and ENABLE_/DISABLE_SVC_NOTIFICATIONS.</summary>
    public static string Notifications(NagiosTarget target, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(target);
        var verb = enabled ? "ENABLE" : "DISABLE";
        return Join(target.IsService ? $"{verb}_SVC_NOTIFICATIONS" : $"{verb}_HOST_NOTIFICATIONS", Names(target));
    }

    /// <summary>The line as the command file wants it: <c>[epoch] NAME;args</c> (without the newline).</summary>
    public static string Line(string command, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        return $"[{Epoch(now)}] {command}";
    }

    private static string[] Names(NagiosTarget target) =>
        target.Service is null ? [NagiosInput.Host(target.Host)] : [NagiosInput.Host(target.Host), NagiosInput.Service(target.Service)];

    private static string Join(string name, IEnumerable<string> arguments) => string.Join(';', [name, .. arguments]);

    private static string Bit(bool value) => value ? "1" : "0";

    private static string Epoch(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
