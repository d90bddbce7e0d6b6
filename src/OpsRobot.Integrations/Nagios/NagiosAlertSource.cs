using OpsRobot.Core.Alerts;
using OpsRobot.Core.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// The <c>nagios</c> alert source: <c>!ack</c> acknowledges the problem in Nagios, <c>!silence</c> schedules a fixed
/// downtime for the duration. The host and service come from the alert's labels (<c>host</c>, <c>service</c>), as
/// the Nagios intake stores them; an alert without a <c>service</c> label is a host alert.
/// </summary>
public sealed class NagiosAlertSource(INagiosClient nagios) : IAlertSource
{
    public string Name => "nagios";

    public async Task<AlertCallbackResult> AcknowledgeAsync(AlertReference alert, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(actor);
        try
        {
            var target = TargetOf(alert);
            var text = string.IsNullOrWhiteSpace(comment) ? $"Acknowledged from OpsRobot in {actor.Room}" : comment;
            await nagios.AcknowledgeAsync(target, actor.UserName, text, status: null, cancellationToken).ConfigureAwait(false);
            return new AlertCallbackResult(true, $"Acknowledged {target} in Nagios as {actor.UserName}.");
        }
        catch (NagiosException ex)
        {
            return new AlertCallbackResult(false, ex.Message);
        }
    }

    public async Task<AlertCallbackResult> SilenceAsync(AlertReference alert, TimeSpan duration, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(actor);
        try
        {
            var target = TargetOf(alert);
            var text = string.IsNullOrWhiteSpace(comment) ? $"Silenced from OpsRobot in {actor.Room}" : comment;
            var request = await nagios.ScheduleDowntimeAsync(target, duration, actor.UserName, text, status: null, cancellationToken).ConfigureAwait(false);
            return new AlertCallbackResult(true, $"Scheduled a {DurationText.Format(duration)} downtime for {target} in Nagios, until {request.End:yyyy-MM-dd HH:mm} UTC.");
        }
        catch (NagiosException ex)
        {
            return new AlertCallbackResult(false, ex.Message);
        }
    }

    /// <summary>The host (label <c>host</c>, else the alert's host) and the service (label <c>service</c>, when not empty).</summary>
    internal static NagiosTarget TargetOf(AlertReference alert)
    {
        var host = alert.Labels.TryGetValue("host", out var labelled) && !string.IsNullOrWhiteSpace(labelled) ? labelled : alert.Host;
        if (string.IsNullOrWhiteSpace(host))
        {
            throw new NagiosException("This alert names no host (label 'host'), so there is nothing to act on in Nagios.");
        }

        alert.Labels.TryGetValue("service", out var service);
        return NagiosTarget.Of(host, service);
    }
}
