using System.Globalization;
using OpsRobot.Core.Alerts;

namespace OpsRobot.Integrations.Alertmanager;

/// <summary>
/// <c>!silence</c> and <c>!ack</c> for alerts from Alertmanager.
/// <list type="bullet">
/// <item>Silence: a silence whose matchers are the alert's labels, each <c>name="value"</c> (equal, not a regular
/// expression), from now for the duration, <c>createdBy</c> the OpsRobot user, the comment saying from which room.
/// Only this alert matches it: Alertmanager's fingerprint is a hash of exactly these labels.</item>
/// <item>Ack: Alertmanager has no acknowledgements. Rather than fake one with a silence (which would also hide a
/// worsening alert and its resolution), OpsRobot asks Alertmanager where the alert stands, records the ack on the
/// board and tells the room; the answer says whether Alertmanager still has it active.</item>
/// </list>
/// </summary>
public sealed class AlertmanagerAlertSource(AlertmanagerClient client, TimeProvider time) : IAlertSource
{
    public string Name => "alertmanager";

    public async Task<AlertCallbackResult> AcknowledgeAsync(AlertReference alert, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        try
        {
            var alerts = await client.ListAlertsAsync(cancellationToken).ConfigureAwait(false);
            var there = alerts.FirstOrDefault(a => string.Equals(a.Fingerprint, alert.Fingerprint, StringComparison.Ordinal))
                ?? alerts.FirstOrDefault(a => SameLabels(a.Labels, alert.Labels));
            var state = there is null
                ? "it no longer has this alert (resolved there, or not yet re-sent)"
                : there.State == "active" ? "still active there" : $"{there.State} there";
            return new AlertCallbackResult(true, $"{state}. Alertmanager keeps no acknowledgements, so OpsRobot records this one.");
        }
        catch (AlertmanagerException ex)
        {
            return new AlertCallbackResult(false, ex.Message);
        }
    }

    public async Task<AlertCallbackResult> SilenceAsync(AlertReference alert, TimeSpan duration, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(actor);
        if (alert.Labels.Count == 0)
        {
            return new AlertCallbackResult(false, "the alert has no labels to match, and a silence without matchers would silence everything.");
        }

        var now = time.GetUtcNow();
        var matchers = alert.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => new SilenceMatcher(l.Key, l.Value)).ToList();
        var text = $"Silenced from OpsRobot by {actor.UserName} in {actor.Room}" + (string.IsNullOrWhiteSpace(comment) ? "." : $": {comment}");
        try
        {
            var id = await client.CreateSilenceAsync(matchers, now, now + duration, actor.UserName, text, cancellationToken).ConfigureAwait(false);
            return new AlertCallbackResult(true, string.Create(CultureInfo.InvariantCulture, $"silence {id} until {(now + duration).UtcDateTime:yyyy-MM-dd HH:mm} UTC."), id);
        }
        catch (AlertmanagerException ex)
        {
            return new AlertCallbackResult(false, ex.Message);
        }
    }

    private static bool SameLabels(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);
}
