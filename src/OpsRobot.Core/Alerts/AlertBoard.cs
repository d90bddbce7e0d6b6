using Microsoft.Extensions.Options;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Alerts;

/// <summary>What the rooms should hear about an alert.</summary>
public enum AlertNoticeKind
{
    /// <summary>It started firing (first time, or again after it resolved).</summary>
    Firing,

    /// <summary>It resolved.</summary>
    Resolved,

    /// <summary>It changes state too often: said once, then held until it settles.</summary>
    Flapping,

    /// <summary>It stopped flapping; says where it stands now.</summary>
    Settled,
}

/// <summary>One thing to tell the rooms: the alert as it was at that moment.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Alert">The alert right after it happened.</param>
/// <param name="FiredFor">For a resolution: how long it had been firing.</param>
public sealed record AlertNotice(AlertNoticeKind Kind, AlertState Alert, TimeSpan? FiredFor = null)
{
    /// <summary>The stored notice (kept until every room it goes to has been handed it); 0 for one not stored.</summary>
    public long NoticeId { get; init; }

    /// <summary>
    /// For a stored notice read back after a restart: the rooms already handed it (sent, or refused by their adapter)
    /// before OpsRobot stopped. It is not posted to them again.
    /// </summary>
    public IReadOnlyCollection<AlertRoom> HandedTo { get; init; } = [];
}

/// <summary>
/// The current state of every alert, kept from the <c>core.alert</c> events: de-duplicates re-sent alerts (no
/// notice when nothing changed), counts flaps and holds a flapping alert's notices until it settles. Pure state
/// logic over <see cref="IAlertStore"/>; <see cref="AlertService"/> runs it and posts the notices.
/// </summary>
public sealed class AlertBoard(IAlertStore store, AlertRouter router, TimeProvider time, IOptions<AlertOptions> options)
{
    private readonly AlertOptions _options = options.Value;

    public IAlertStore Store => store;

    /// <summary>Applies the next batch of stored events; returns how many were read and what to tell the rooms.</summary>
    public async Task<(int Read, IReadOnlyList<AlertNotice> Notices)> ApplyNextAsync(CancellationToken cancellationToken)
    {
        var cursor = await store.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        var stored = await store.ReadEventsAsync(cursor, Math.Clamp(_options.BatchSize, 1, 5000), cancellationToken).ConfigureAwait(false);
        if (stored.Count == 0)
        {
            return (0, []);
        }

        var events = new List<AlertEvent>(stored.Count);
        foreach (var e in stored)
        {
            if (AlertEvent.FromPayload(e.Id, e.Payload, e.ReceivedAt) is { } parsed)
            {
                events.Add(parsed);
            }
        }

        var notices = await ApplyAsync(events, stored[^1].Id, cancellationToken).ConfigureAwait(false);
        return (stored.Count, notices);
    }

    /// <summary>Applies <paramref name="events"/> in order and stores the result with <paramref name="lastEventId"/> as the new cursor.</summary>
    public async Task<IReadOnlyList<AlertNotice>> ApplyAsync(IReadOnlyList<AlertEvent> events, long lastEventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var keys = events.Select(e => (e.Source, e.Fingerprint)).Distinct().ToList();
        var current = (await store.FindAsync(keys, cancellationToken).ConfigureAwait(false))
            .ToDictionary(a => (a.Source, a.Fingerprint));
        var changed = new HashSet<(string, string)>();
        var pending = new List<(AlertNoticeKind Kind, AlertState Alert, TimeSpan? FiredFor)>();
        var nodes = new Dictionary<(string?, string?), string?>();

        foreach (var e in events)
        {
            var key = (e.Source, e.Fingerprint);
            current.TryGetValue(key, out var before);
            var (after, notice) = await ApplyOneAsync(before, e, nodes, cancellationToken).ConfigureAwait(false);
            current[key] = after;
            changed.Add(key);
            if (notice is { } n)
            {
                pending.Add((n.Kind, after, n.FiredFor));
            }
        }

        var now = time.GetUtcNow();
        var saved = await store.SaveAsync(
            new AlertBatch(lastEventId, [.. changed.Select(k => current[k])], [.. pending.Select(p => new NewAlertNotice(p.Kind, p.Alert.Source, p.Alert.Fingerprint, p.FiredFor, now))]),
            cancellationToken).ConfigureAwait(false);
        var ids = saved.Alerts.ToDictionary(a => (a.Source, a.Fingerprint), a => a.Id);
        return [.. pending.Select((p, i) => new AlertNotice(p.Kind, p.Alert with { Id = ids[(p.Alert.Source, p.Alert.Fingerprint)] }, p.FiredFor) { NoticeId = saved.NoticeIds[i] })];
    }

    /// <summary>The notices stored and not yet handed to every room (after a restart: what the rooms were about to hear), with the rooms already handed them.</summary>
    public Task<IReadOnlyList<AlertNotice>> PendingNoticesAsync(CancellationToken cancellationToken) => store.ListNoticesAsync(cancellationToken);

    /// <summary>Alerts that flapped and have been quiet for <see cref="AlertOptions.SettleAfter"/>: settled, with a notice each.</summary>
    public async Task<IReadOnlyList<AlertNotice>> SettleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var notices = new List<AlertNotice>();
        foreach (var alert in await store.ListFlappingAsync(1000, cancellationToken).ConfigureAwait(false))
        {
            var last = alert.RecentChanges.Count > 0 ? alert.RecentChanges[^1] : alert.Since;
            long? noticeId;
            try
            {
                noticeId = now - last >= _options.SettleAfter ? await store.SettleAsync(alert.Id, last, now, cancellationToken).ConfigureAwait(false) : null;
            }
            catch (StoreUnavailableException) when (notices.Count > 0)
            {
                // Each settle is its own transaction: those already stored go to the rooms now; the rest wait for the
                // next turn.
                break;
            }

            if (noticeId is { } id)
            {
                notices.Add(new AlertNotice(AlertNoticeKind.Settled, alert with { Flapping = false, RecentChanges = [] }) { NoticeId = id });
            }
        }

        return notices;
    }

    private async Task<(AlertState After, (AlertNoticeKind Kind, TimeSpan? FiredFor)? Notice)> ApplyOneAsync(
        AlertState? before, AlertEvent e, Dictionary<(string?, string?), string?> nodes, CancellationToken cancellationToken)
    {
        if (before is null)
        {
            var node = await NodeAsync(e, nodes, cancellationToken).ConfigureAwait(false);
            var created = new AlertState
            {
                Source = e.Source,
                Fingerprint = e.Fingerprint,
                Name = e.Name,
                Severity = e.Severity,
                Host = e.Host,
                Summary = e.Summary,
                Url = e.Url,
                Labels = e.Labels,
                Node = node,
                Status = e.Status,
                Since = e.StateSince,
                FirstSeen = e.At,
                LastSeen = e.At,
                Events = 1,
            };

            // A resolution for an alert the board never saw firing is recorded but not announced: nobody heard of it.
            return (created, e.Status == AlertStatus.Firing ? (AlertNoticeKind.Firing, null) : null);
        }

        var updated = before with
        {
            Name = e.Name,
            Severity = e.Severity ?? before.Severity,
            Host = e.Host ?? before.Host,
            Summary = e.Summary ?? before.Summary,
            Url = e.Url ?? before.Url,
            Labels = e.Labels.Count > 0 ? e.Labels : before.Labels,
            LastSeen = e.At,
            Events = before.Events + 1,
        };

        if (before.Status == e.Status)
        {
            // Re-sent with no change (Alertmanager repeats firing alerts every group_interval): the rooms heard it already.
            return (updated, null);
        }

        var window = e.At - _options.FlapWindow;
        var changes = before.RecentChanges.Where(c => c > window).Append(e.At).TakeLast(Math.Max(2, _options.FlapThreshold * 2)).ToList();
        // The source's time of the change, but never before the state it ends (clocks and late deliveries disagree).
        var since = e.StateSince < before.Since ? before.Since : e.StateSince;
        var firedFor = e.Status == AlertStatus.Resolved ? since - before.Since : (TimeSpan?)null;
        updated = updated with
        {
            Status = e.Status,
            Since = since,
            Flaps = before.Flaps + 1,
            RecentChanges = changes,
            Node = await NodeAsync(e, nodes, cancellationToken).ConfigureAwait(false) ?? before.Node,
        };

        if (e.Status == AlertStatus.Firing)
        {
            // A new firing is a new problem: the last acknowledgement was for the one that resolved.
            updated = updated with { AckedBy = null, AckedAt = null, AckComment = null };
        }

        if (before.Flapping)
        {
            return (updated, null);
        }

        if (_options.FlapThreshold > 0 && changes.Count >= _options.FlapThreshold)
        {
            return (updated with { Flapping = true }, (AlertNoticeKind.Flapping, null));
        }

        return (updated, e.Status == AlertStatus.Firing ? (AlertNoticeKind.Firing, null) : (AlertNoticeKind.Resolved, firedFor));
    }

    private async Task<string?> NodeAsync(AlertEvent e, Dictionary<(string?, string?), string?> cache, CancellationToken cancellationToken)
    {
        var application = e.Labels.GetValueOrDefault("application");
        if (!cache.TryGetValue((application, e.Host), out var node))
        {
            node = await router.FindNodeAsync(application, e.Host, cancellationToken).ConfigureAwait(false);
            cache[(application, e.Host)] = node;
        }

        return node;
    }
}
