using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using OpsRobot.Core.Alerts;

namespace OpsRobot.Storage.Sqlite;

/// <summary>The alert board in SQLite (migrations 0006, 0012 and 0013). It reads <c>core.alert</c> events straight from the events table, by its own cursor.</summary>
public sealed class SqliteAlertStore(SqliteDatabase database) : SqliteStoreBase(database), IAlertStore
{
    private const string Columns =
        "id AS Id, source AS Source, fingerprint AS Fingerprint, name AS Name, severity AS Severity, host AS Host, summary AS Summary, url AS Url, " +
        "labels AS Labels, node AS Node, status AS Status, since AS Since, first_seen AS FirstSeen, last_seen AS LastSeen, events AS Events, " +
        "flaps AS Flaps, recent_changes AS RecentChanges, flapping AS Flapping, acked_by AS AckedBy, acked_at AS AckedAt, ack_comment AS AckComment, " +
        "silenced_by AS SilencedBy, silenced_until AS SilencedUntil, silence_id AS SilenceId";

    // The board's reader owns every column but the people's (ack, silence). A new firing clears the last ack: it was
    // for the problem that resolved. Silences stay: they run until their end at the source too.
    private const string Upsert =
        """
        INSERT INTO alerts (source, fingerprint, name, severity, host, summary, url, labels, node, status, since, first_seen, last_seen,
                            events, flaps, recent_changes, flapping)
        VALUES (@Source, @Fingerprint, @Name, @Severity, @Host, @Summary, @Url, @Labels, @Node, @Status, @Since, @FirstSeen, @LastSeen,
                @Events, @Flaps, @RecentChanges, @Flapping)
        ON CONFLICT (source, fingerprint) DO UPDATE SET
            name = excluded.name, severity = excluded.severity, host = excluded.host, summary = excluded.summary, url = excluded.url,
            labels = excluded.labels, node = excluded.node, since = excluded.since, last_seen = excluded.last_seen, events = excluded.events,
            flaps = excluded.flaps, recent_changes = excluded.recent_changes, flapping = excluded.flapping,
            acked_by = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' THEN NULL ELSE alerts.acked_by END,
            acked_at = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' THEN NULL ELSE alerts.acked_at END,
            ack_comment = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' THEN NULL ELSE alerts.ack_comment END,
            status = excluded.status
        RETURNING id
        """;

    public Task<long> GetCursorAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT last_event_id FROM alert_board_cursor WHERE id = 1", cancellationToken: cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<StoredAlertEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<StoredAlertEvent>>(async c =>
            [.. (await c.QueryAsync<(long Id, string Payload, long ReceivedAt)>(new CommandDefinition(
                "SELECT id, payload, received_at FROM events WHERE trigger_type = 'core.alert' AND id > @afterId ORDER BY id LIMIT @limit",
                new { afterId, limit = Math.Clamp(limit, 1, 5000) }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                // A payload that cannot be read is an empty one, which the board skips (it has no alert in it).
                .Select(r => new StoredAlertEvent(r.Id, StoredJson.Object(r.Payload, out _) ?? [], FromUnixMs(r.ReceivedAt)))],
            cancellationToken);

    private const string InsertNotice =
        "INSERT INTO alert_notices (alert_id, kind, fired_for_ms, created_at) VALUES (@AlertId, @Kind, @FiredFor, @At) RETURNING id";

    public Task<AlertBatchStored> SaveAsync(AlertBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return InTransactionAsync(async (c, tx) =>
        {
            var saved = new List<AlertState>(batch.Changed.Count);
            var ids = new Dictionary<(string, string), long>();
            foreach (var alert in batch.Changed)
            {
                var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(Upsert, Parameters(alert), tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
                saved.Add(alert with { Id = id });
                ids[(alert.Source, alert.Fingerprint)] = id;
            }

            var notices = new List<long>(batch.Notices.Count);
            foreach (var notice in batch.Notices)
            {
                if (!ids.TryGetValue((notice.Source, notice.Fingerprint), out var alertId))
                {
                    throw new ArgumentException($"A notice for an alert the batch does not change ({notice.Source}, {notice.Fingerprint}).", nameof(batch));
                }

                notices.Add(await c.ExecuteScalarAsync<long>(new CommandDefinition(
                    InsertNotice, NoticeParameters(alertId, notice.Kind, notice.FiredFor, notice.At), tx, cancellationToken: cancellationToken)).ConfigureAwait(false));
            }

            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE alert_board_cursor SET last_event_id = MAX(last_event_id, @id) WHERE id = 1",
                new { id = batch.LastEventId }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return new AlertBatchStored(saved, notices);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<AlertNotice>> ListNoticesAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<AlertNotice>>(async c =>
        {
            await using var tx = c.BeginTransaction(deferred: true);
            var notices = (await c.QueryAsync<(long Id, long AlertId, string Kind, long? FiredForMs)>(new CommandDefinition(
                "SELECT id, alert_id, kind, fired_for_ms FROM alert_notices ORDER BY id", transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
            if (notices.Count == 0)
            {
                return [];
            }

            var alerts = (await c.QueryAsync<AlertRow>(new CommandDefinition(
                $"SELECT {Columns} FROM alerts WHERE id IN (SELECT alert_id FROM alert_notices)", transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .ToDictionary(r => r.Id, r => r.ToState());
            var handed = (await c.QueryAsync<(long NoticeId, string Platform, string Room)>(new CommandDefinition(
                "SELECT notice_id, platform, room FROM alert_notice_rooms", transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .ToLookup(r => r.NoticeId, r => new AlertRoom(r.Platform, r.Room));
            var list = new List<AlertNotice>(notices.Count);
            var unreadable = new List<long>();
            foreach (var n in notices)
            {
                if (alerts.TryGetValue(n.AlertId, out var alert) && Enum.TryParse<AlertNoticeKind>(n.Kind, ignoreCase: false, out var kind))
                {
                    list.Add(new AlertNotice(kind, alert, n.FiredForMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null)
                    {
                        NoticeId = n.Id,
                        HandedTo = [.. handed[n.Id]],
                    });
                }
                else
                {
                    unreadable.Add(n.Id);
                }
            }

            // A kind this version does not know cannot be told: it is removed rather than kept forever.
            await DeleteNoticesAsync(c, tx, unreadable, cancellationToken).ConfigureAwait(false);

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return list;
        }, cancellationToken);

    public Task RecordDeliveriesAsync(IReadOnlyCollection<AlertNoticeRoom> handed, IReadOnlyCollection<long> finished, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handed);
        ArgumentNullException.ThrowIfNull(finished);
        return handed.Count == 0 && finished.Count == 0 ? Task.CompletedTask : InTransactionAsync(async (c, tx) =>
        {
            // One statement prepared once and run per room (Dapper reuses the command). A notice no longer stored gets no
            // row: its id may be reused by a later notice, which must not inherit its rooms.
            if (handed.Count > 0)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT OR IGNORE INTO alert_notice_rooms (notice_id, platform, room)
                    SELECT @NoticeId, @Platform, @Room WHERE EXISTS (SELECT 1 FROM alert_notices WHERE id = @NoticeId)
                    """,
                    handed.Select(h => new { h.NoticeId, h.Room.Platform, h.Room.Room }), tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            await DeleteNoticesAsync(c, tx, finished, cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    private static async Task DeleteNoticesAsync(SqliteConnection c, SqliteTransaction tx, IEnumerable<long> ids, CancellationToken cancellationToken)
    {
        // In chunks: each id is a bound parameter. The rooms go first (they refer to the notice), in the same transaction.
        foreach (var chunk in ids.Chunk(500))
        {
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM alert_notice_rooms WHERE notice_id IN @chunk", new { chunk }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM alert_notices WHERE id IN @chunk", new { chunk }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    public Task SetAckAsync(long id, string by, DateTimeOffset at, string? comment, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE alerts SET acked_by = @by, acked_at = @at, ack_comment = @comment WHERE id = @id",
            new { id, by, at = ToUnixMs(at), comment }, cancellationToken: cancellationToken)), cancellationToken);

    public Task SetSilenceAsync(long id, string by, DateTimeOffset until, string? silenceId, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE alerts SET silenced_by = @by, silenced_until = @until, silence_id = @silenceId WHERE id = @id",
            new { id, by, until = ToUnixMs(until), silenceId }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<long?> SettleAsync(long id, DateTimeOffset lastChange, DateTimeOffset now, CancellationToken cancellationToken) =>
        InTransactionAsync<long?>(async (c, tx) =>
        {
            var settled = await c.ExecuteAsync(new CommandDefinition(
                "UPDATE alerts SET flapping = 0, recent_changes = '[]' WHERE id = @id AND flapping = 1 AND COALESCE(json_extract(recent_changes, '$[#-1]'), since) = @last",
                new { id, last = ToUnixMs(lastChange) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return settled == 1
                ? await c.ExecuteScalarAsync<long>(new CommandDefinition(InsertNotice, NoticeParameters(id, AlertNoticeKind.Settled, null, now), tx, cancellationToken: cancellationToken)).ConfigureAwait(false)
                : null;
        }, cancellationToken);

    public Task<AlertState?> GetAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (await c.QuerySingleOrDefaultAsync<AlertRow>(new CommandDefinition(
            $"SELECT {Columns} FROM alerts WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false))?.ToState(), cancellationToken);

    public Task<IReadOnlyList<AlertState>> FindAsync(IReadOnlyCollection<(string Source, string Fingerprint)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return WithConnectionAsync<IReadOnlyList<AlertState>>(async c =>
        {
            var found = new List<AlertState>();
            foreach (var group in keys.GroupBy(k => k.Source, StringComparer.Ordinal))
            {
                foreach (var chunk in group.Select(k => k.Fingerprint).Chunk(500))
                {
                    var rows = await c.QueryAsync<AlertRow>(new CommandDefinition(
                        $"SELECT {Columns} FROM alerts WHERE source = @source AND fingerprint IN @chunk",
                        new { source = group.Key, chunk }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    found.AddRange(rows.Select(r => r.ToState()));
                }
            }

            return found;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<AlertState>> ListFiringAsync(int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<AlertState>>(async c =>
            [.. (await c.QueryAsync<AlertRow>(new CommandDefinition(
                $"SELECT {Columns} FROM alerts WHERE status = 'firing' ORDER BY since, id LIMIT @limit",
                new { limit = Math.Clamp(limit, 1, 100_000) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToState())],
            cancellationToken);

    public Task<IReadOnlyList<AlertState>> ListFlappingAsync(int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<AlertState>>(async c =>
            [.. (await c.QueryAsync<AlertRow>(new CommandDefinition(
                $"SELECT {Columns} FROM alerts WHERE flapping = 1 ORDER BY id LIMIT @limit",
                new { limit = Math.Clamp(limit, 1, 100_000) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToState())],
            cancellationToken);

    public Task<(long Total, long Firing)> CountAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT COUNT(*), COALESCE(SUM(status = 'firing'), 0) FROM alerts", cancellationToken: cancellationToken)).ConfigureAwait(false), cancellationToken);

    private static object NoticeParameters(long alertId, AlertNoticeKind kind, TimeSpan? firedFor, DateTimeOffset at) => new
    {
        AlertId = alertId,
        Kind = kind.ToString(),
        FiredFor = firedFor is { } f ? (long?)f.TotalMilliseconds : null,
        At = ToUnixMs(at),
    };

    private static object Parameters(AlertState a) => new
    {
        a.Source,
        a.Fingerprint,
        a.Name,
        a.Severity,
        a.Host,
        a.Summary,
        a.Url,
        Labels = JsonSerializer.Serialize(a.Labels),
        a.Node,
        Status = a.Status == AlertStatus.Firing ? "firing" : "resolved",
        Since = ToUnixMs(a.Since),
        FirstSeen = ToUnixMs(a.FirstSeen),
        LastSeen = ToUnixMs(a.LastSeen),
        a.Events,
        a.Flaps,
        RecentChanges = JsonSerializer.Serialize(a.RecentChanges.Select(ToUnixMs).ToArray()),
        Flapping = a.Flapping ? 1 : 0,
    };

    private sealed class AlertRow
    {
        public long Id { get; set; }

        public string Source { get; set; } = string.Empty;

        public string Fingerprint { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public string? Severity { get; set; }

        public string? Host { get; set; }

        public string? Summary { get; set; }

        public string? Url { get; set; }

        public string Labels { get; set; } = "{}";

        public string? Node { get; set; }

        public string Status { get; set; } = "firing";

        public long Since { get; set; }

        public long FirstSeen { get; set; }

        public long LastSeen { get; set; }

        public long Events { get; set; }

        public long Flaps { get; set; }

        public string RecentChanges { get; set; } = "[]";

        public long Flapping { get; set; }

        public string? AckedBy { get; set; }

        public long? AckedAt { get; set; }

        public string? AckComment { get; set; }

        public string? SilencedBy { get; set; }

        public long? SilencedUntil { get; set; }

        public string? SilenceId { get; set; }

        public AlertState ToState() => new()
        {
            Id = Id,
            Source = Source,
            Fingerprint = Fingerprint,
            Name = Name,
            Severity = Severity,
            Host = Host,
            Summary = Summary,
            Url = Url,
            Labels = JsonSerializer.Deserialize<Dictionary<string, string>>(Labels) ?? [],
            Node = Node,
            Status = Status == "firing" ? AlertStatus.Firing : AlertStatus.Resolved,
            Since = FromUnixMs(Since),
            FirstSeen = FromUnixMs(FirstSeen),
            LastSeen = FromUnixMs(LastSeen),
            Events = Events,
            Flaps = (int)Flaps,
            RecentChanges = [.. (JsonSerializer.Deserialize<long[]>(RecentChanges) ?? []).Select(FromUnixMs)],
            Flapping = Flapping != 0,
            AckedBy = AckedBy,
            AckedAt = FromUnixMs(AckedAt),
            AckComment = AckComment,
            SilencedBy = SilencedBy,
            SilencedUntil = FromUnixMs(SilencedUntil),
            SilenceId = SilenceId,
        };
    }
}
