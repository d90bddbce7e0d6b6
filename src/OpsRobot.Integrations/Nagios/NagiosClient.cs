using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Nagios as OpsRobot uses it: status read from status.dat, changes written to the external command file. Every
/// change is checked against the status data first, because Nagios silently ignores a command for a host it does
/// not know (it only logs a warning): a typo answers "no such host" here, not a false "done". A caller that has
/// read the status data for the same command (to find the service in chat's words, say) passes it on as
/// <c>status</c>, so that one command parses status.dat once; null reads it.
/// </summary>
public interface INagiosClient
{
    /// <summary>Reads the current status data.</summary>
    Task<NagiosStatus> ReadStatusAsync(CancellationToken cancellationToken);

    /// <summary>Acknowledges a host or service problem (sticky, with a notification, persistent comment).</summary>
    Task AcknowledgeAsync(NagiosTarget target, string author, string comment, NagiosStatus? status, CancellationToken cancellationToken);

    /// <summary>Removes an acknowledgement.</summary>
    Task RemoveAcknowledgementAsync(NagiosTarget target, NagiosStatus? status, CancellationToken cancellationToken);

    /// <summary>Schedules a fixed downtime from now for <paramref name="duration"/>.</summary>
    Task<NagiosDowntimeRequest> ScheduleDowntimeAsync(NagiosTarget target, TimeSpan duration, string author, string comment, NagiosStatus? status, CancellationToken cancellationToken);

    /// <summary>Cancels a downtime by its id (host or service downtime, as the status data says); returns what it was.</summary>
    Task<NagiosDowntime> CancelDowntimeAsync(long id, CancellationToken cancellationToken);

    /// <summary>Asks Nagios to check a host or service now.</summary>
    Task RecheckAsync(NagiosTarget target, NagiosStatus? status, CancellationToken cancellationToken);

    /// <summary>Turns notifications of a host or service on or off.</summary>
    Task SetNotificationsAsync(NagiosTarget target, bool enabled, NagiosStatus? status, CancellationToken cancellationToken);
}

/// <summary>A downtime as it was asked for; Nagios gives it an id when it takes the command.</summary>
public sealed record NagiosDowntimeRequest(NagiosTarget Target, DateTimeOffset Start, DateTimeOffset End, string Author, string Comment);

/// <inheritdoc cref="INagiosClient"/>
public sealed partial class NagiosClient(IOptionsMonitor<NagiosOptions> options, INagiosStatusFile statusFile, NagiosCommandPipe pipe, TimeProvider time, ILogger<NagiosClient> logger) : INagiosClient
{
    private NagiosOptions Options => options.CurrentValue;

    public Task<NagiosStatus> ReadStatusAsync(CancellationToken cancellationToken) => statusFile.ReadAsync(cancellationToken);

    public async Task AcknowledgeAsync(NagiosTarget target, string author, string comment, NagiosStatus? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var line = NagiosCommands.Acknowledge(target, sticky: true, notify: true, persistent: true, author, comment);
        var (state, problem) = await StateOfAsync(target, status, cancellationToken).ConfigureAwait(false);
        if (!problem)
        {
            throw new NagiosException($"{target} is {state}: there is no problem to acknowledge.");
        }

        await SendAsync(line, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAcknowledgementAsync(NagiosTarget target, NagiosStatus? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await StateOfAsync(target, status, cancellationToken).ConfigureAwait(false);
        await SendAsync(NagiosCommands.RemoveAcknowledgement(target), cancellationToken).ConfigureAwait(false);
    }

    public async Task<NagiosDowntimeRequest> ScheduleDowntimeAsync(NagiosTarget target, TimeSpan duration, string author, string comment, NagiosStatus? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (duration < TimeSpan.FromMinutes(1))
        {
            throw new NagiosException("A downtime lasts at least one minute.");
        }

        if (duration > Options.MaxDowntime)
        {
            throw new NagiosException($"A downtime may last at most {DurationText.Format(Options.MaxDowntime)} (OpsRobot:Nagios:MaxDowntime).");
        }

        var start = time.GetUtcNow();
        var end = start + duration;
        var line = NagiosCommands.ScheduleFixedDowntime(target, start, end, author, comment);
        await StateOfAsync(target, status, cancellationToken).ConfigureAwait(false);
        await SendAsync(line, cancellationToken).ConfigureAwait(false);
        return new NagiosDowntimeRequest(target, start, end, author, comment);
    }

    public async Task<NagiosDowntime> CancelDowntimeAsync(long id, CancellationToken cancellationToken)
    {
        var status = await ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var downtime = status.FindDowntime(id)
            ?? throw new NagiosException($"Nagios has no downtime #{id} (it may have ended already). `!nagios status HOST` lists a host's downtimes.");
        await SendAsync(NagiosCommands.DeleteDowntime(downtime), cancellationToken).ConfigureAwait(false);
        return downtime;
    }

    public async Task RecheckAsync(NagiosTarget target, NagiosStatus? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await StateOfAsync(target, status, cancellationToken).ConfigureAwait(false);
        await SendAsync(NagiosCommands.ForcedCheck(target, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    public async Task SetNotificationsAsync(NagiosTarget target, bool enabled, NagiosStatus? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await StateOfAsync(target, status, cancellationToken).ConfigureAwait(false);
        await SendAsync(NagiosCommands.Notifications(target, enabled), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The target's state from the status data; refuses a host or service Nagios does not know.</summary>
    private async Task<(string State, bool Problem)> StateOfAsync(NagiosTarget target, NagiosStatus? known, CancellationToken cancellationToken)
    {
        var status = known ?? await ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var host = status.FindHost(target.Host)
            ?? throw new NagiosException($"Nagios has no host '{target.Host}'{Suggest(status.Hosts.Select(h => h.Name), target.Host)}.");
        if (target.Service is null)
        {
            return (host.StateName, host.IsProblem);
        }

        var service = status.FindService(target.Host, target.Service)
            ?? throw new NagiosException($"Host '{target.Host}' has no service '{target.Service}' in Nagios{Suggest(status.ServicesOf(target.Host).Select(s => s.Description), target.Service)}.");
        return (service.StateName, service.IsProblem);
    }

    private async Task SendAsync(string command, CancellationToken cancellationToken)
    {
        var line = NagiosCommands.Line(command, time.GetUtcNow());
        var path = Options.CommandFile;
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new NagiosException("OpsRobot:Nagios:CommandFile is not set: point it at command_file from nagios.cfg.");
        }

        await pipe.WriteAsync(path, line, Options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        LogSent(logger, command.Split(';', 2)[0], path);
    }

    private static string Suggest(IEnumerable<string> names, string wanted)
    {
        var close = names.Where(n => n.Contains(wanted, StringComparison.OrdinalIgnoreCase) || wanted.Contains(n, StringComparison.OrdinalIgnoreCase) || Similarity.IsWithin(n, wanted, 2, ignoreCase: true))
            .Order(StringComparer.Ordinal).Take(5).ToList();
        return close.Count == 0 ? string.Empty : $" (did you mean {string.Join(", ", close)}?)";
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Sent {Command} to Nagios's command file {Path}")]
    private static partial void LogSent(ILogger logger, string command, string path);
}
