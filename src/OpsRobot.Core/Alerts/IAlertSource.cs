namespace OpsRobot.Core.Alerts;

/// <summary>
/// A monitoring system that alerts come from (the <c>source</c> of a <c>core.alert</c> event) and that people act
/// back on from chat: <c>!ack</c> and <c>!silence</c> call the source, so the silence or acknowledgement is real
/// where the alert lives, not only in OpsRobot. One implementation per source, registered as
/// <c>IAlertSource</c>; the alerts board picks it by <see cref="Name"/>.
/// </summary>
public interface IAlertSource
{
    /// <summary>The <c>source</c> field of the alerts it owns: <c>alertmanager</c>, <c>nagios</c>.</summary>
    string Name { get; }

    /// <summary>Acknowledges the alert at its source: someone is on it.</summary>
    Task<AlertCallbackResult> AcknowledgeAsync(AlertReference alert, AlertActor actor, string? comment, CancellationToken cancellationToken);

    /// <summary>Silences the alert at its source for <paramref name="duration"/>.</summary>
    Task<AlertCallbackResult> SilenceAsync(AlertReference alert, TimeSpan duration, AlertActor actor, string? comment, CancellationToken cancellationToken);
}

/// <summary>The alert to act on, as the <c>core.alert</c> event described it.</summary>
/// <param name="Fingerprint">The same for every event of the same alert.</param>
/// <param name="Name">The alert's name (Alertmanager's alertname; the Nagios service, or the host).</param>
/// <param name="Host">The host it is about, when known.</param>
/// <param name="Labels">Its labels (for Nagios: host, service, state).</param>
public sealed record AlertReference(string Fingerprint, string Name, string? Host, IReadOnlyDictionary<string, string> Labels);

/// <summary>Who acted, for the source's own records (Alertmanager's <c>createdBy</c>, Nagios's author).</summary>
/// <param name="UserName">The OpsRobot user, or the chat identity when unlinked.</param>
/// <param name="Room">The room the command came from.</param>
public sealed record AlertActor(string UserName, string Room);

/// <summary>What the source answered.</summary>
/// <param name="Succeeded">True when the source took it.</param>
/// <param name="Message">A sentence for the room: what was done, or why not.</param>
/// <param name="ExternalId">The source's id for what was made (a silence id), when it has one.</param>
public sealed record AlertCallbackResult(bool Succeeded, string Message, string? ExternalId = null);
