using System.Globalization;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Alerts;

/// <summary>Whether an alert is firing now.</summary>
public enum AlertStatus
{
    Firing,
    Resolved,
}

/// <summary>
/// One alert on the board: the latest word from its source, how it has behaved (since when, how often it flapped),
/// and what people did about it. Keyed by source and fingerprint; <see cref="Id"/> is the short id people type
/// (<c>A12</c>).
/// </summary>
public sealed record AlertState
{
    /// <summary>The board's id; 0 until stored.</summary>
    public long Id { get; init; }

    public required string Source { get; init; }

    public required string Fingerprint { get; init; }

    public required string Name { get; init; }

    public string? Severity { get; init; }

    public string? Host { get; init; }

    public string? Summary { get; init; }

    public string? Url { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The application-tree node it belongs to (by its <c>application</c> label or its host), when known.</summary>
    public string? Node { get; init; }

    public required AlertStatus Status { get; init; }

    /// <summary>When the current status began.</summary>
    public required DateTimeOffset Since { get; init; }

    public required DateTimeOffset FirstSeen { get; init; }

    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>How many events about it arrived (re-sent ones included).</summary>
    public long Events { get; init; }

    /// <summary>How many times it changed between firing and resolved.</summary>
    public int Flaps { get; init; }

    /// <summary>The recent status changes, for flap detection (only those inside the flapping window are kept).</summary>
    public IReadOnlyList<DateTimeOffset> RecentChanges { get; init; } = [];

    /// <summary>True while it flaps: the rooms were told once and hear nothing more until it settles.</summary>
    public bool Flapping { get; init; }

    public string? AckedBy { get; init; }

    public DateTimeOffset? AckedAt { get; init; }

    public string? AckComment { get; init; }

    public string? SilencedBy { get; init; }

    public DateTimeOffset? SilencedUntil { get; init; }

    /// <summary>The source's id of the silence (Alertmanager's silence id), when it gave one.</summary>
    public string? SilenceId { get; init; }

    /// <summary>The short id people type in commands.</summary>
    public string ShortId => "A" + Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The alert as its source's callbacks see it.</summary>
    public AlertReference ToReference() => new(Fingerprint, Name, Host, Labels);

    /// <summary>True when a silence made from OpsRobot is still running.</summary>
    public bool IsSilenced(DateTimeOffset now) => SilencedUntil is { } until && until > now;
}

/// <summary>A <c>core.alert</c> event as the board reads it (see docs/alerts.md for the fields).</summary>
public sealed record AlertEvent
{
    public required long EventId { get; init; }

    public required string Source { get; init; }

    public required string Fingerprint { get; init; }

    public required AlertStatus Status { get; init; }

    public required string Name { get; init; }

    public string? Severity { get; init; }

    public string? Host { get; init; }

    public string? Summary { get; init; }

    public string? Url { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>When the event was received: the board's own clock (last seen, flapping).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>
    /// When the source says this state began (<c>starts_at</c> for firing, <c>ends_at</c> for resolved), else
    /// <see cref="At"/>: an alert that started firing an hour before it reached OpsRobot has fired for an hour. A time
    /// after <see cref="At"/> (a source clock ahead of ours) is taken as <see cref="At"/>.
    /// </summary>
    public required DateTimeOffset StateSince { get; init; }

    /// <summary>Longest text kept from a field, so one oversized alert cannot bloat the board or a room.</summary>
    public const int MaxFieldChars = 1000;

    /// <summary>Reads a stored <c>core.alert</c> payload; null when it lacks what identifies an alert.</summary>
    public static AlertEvent? FromPayload(long eventId, JsonObject payload, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var source = Text(payload["source"]);
        var fingerprint = Text(payload["fingerprint"]);
        if (source is null || fingerprint is null)
        {
            return null;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (payload["labels"] is JsonObject l)
        {
            foreach (var (key, value) in l)
            {
                if (Text(value) is { } v && labels.Count < 64)
                {
                    labels[Clip(key, 200)] = v;
                }
            }
        }

        var status = Text(payload["status"]) == "resolved" ? AlertStatus.Resolved : AlertStatus.Firing;
        return new AlertEvent
        {
            EventId = eventId,
            Source = Clip(source, 100),
            Fingerprint = Clip(fingerprint, 200),
            Status = status,
            Name = Text(payload["name"]) ?? "unnamed",
            Severity = Text(payload["severity"]),
            Host = Text(payload["host"]),
            Summary = Text(payload["summary"]),
            Url = SafeUrl(Text(payload["url"])),
            Labels = labels,
            At = receivedAt,
            StateSince = SourceTime(payload[status == AlertStatus.Resolved ? "ends_at" : "starts_at"], receivedAt),
        };
    }

    /// <summary>
    /// A time the source sent (ISO 8601 with an offset), no later than <paramref name="receivedAt"/>; the received time
    /// when there is none, it does not parse, or it is from before 2000 (Alertmanager's unset time is year 1).
    /// </summary>
    private static DateTimeOffset SourceTime(JsonNode? node, DateTimeOffset receivedAt)
    {
        if (Text(node) is not { } text
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            || at.Year < 2000)
        {
            return receivedAt;
        }

        return at > receivedAt ? receivedAt : at;
    }

    /// <summary>An http(s) link people may click, or null: nothing that could bend the Markdown it is put in.</summary>
    private static string? SafeUrl(string? url) =>
        url is not null && !url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or '`')
        && Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)
            ? u.AbsoluteUri
            : null;

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? Clip(s.Trim(), MaxFieldChars) : null;

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>What the board's reader last applied, the board's rows changed by one batch of events, and the notices they cause.</summary>
/// <param name="LastEventId">The id of the last <c>core.alert</c> event applied.</param>
/// <param name="Changed">Rows to insert (Id 0) or update.</param>
/// <param name="Notices">What the rooms are to be told, stored with the change so a crash cannot lose it.</param>
public sealed record AlertBatch(long LastEventId, IReadOnlyList<AlertState> Changed, IReadOnlyList<NewAlertNotice> Notices);

/// <summary>A notice to store with a batch, for the alert of (<paramref name="Source"/>, <paramref name="Fingerprint"/>).</summary>
public sealed record NewAlertNotice(AlertNoticeKind Kind, string Source, string Fingerprint, TimeSpan? FiredFor, DateTimeOffset At);

/// <summary>What a batch stored: the rows (new ones with their ids) and the ids of its notices, in the batch's order.</summary>
public sealed record AlertBatchStored(IReadOnlyList<AlertState> Alerts, IReadOnlyList<long> NoticeIds);

/// <summary>A room a stored notice (<paramref name="NoticeId"/>) has been handed.</summary>
public sealed record AlertNoticeRoom(long NoticeId, AlertRoom Room);

/// <summary>A stored <c>core.alert</c> event, as the board reads it.</summary>
public sealed record StoredAlertEvent(long Id, JsonObject Payload, DateTimeOffset ReceivedAt);

/// <summary>The alert board's storage.</summary>
public interface IAlertStore
{
    /// <summary>The id of the last <c>core.alert</c> event the board applied (0 at first).</summary>
    Task<long> GetCursorAsync(CancellationToken cancellationToken);

    /// <summary>Stored <c>core.alert</c> events after <paramref name="afterId"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<StoredAlertEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a batch of changed rows and its notices and moves the cursor, in one transaction: an event is applied to
    /// the board exactly once, and its notice kept until the rooms are told, even across a crash.
    /// </summary>
    Task<AlertBatchStored> SaveAsync(AlertBatch batch, CancellationToken cancellationToken);

    /// <summary>Records an acknowledgement; only the ack columns change, so it never races the board's reader.</summary>
    Task SetAckAsync(long id, string by, DateTimeOffset at, string? comment, CancellationToken cancellationToken);

    /// <summary>Records a silence made from OpsRobot; only the silence columns change.</summary>
    Task SetSilenceAsync(long id, string by, DateTimeOffset until, string? silenceId, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a flapping alert settled, unless it changed again since <paramref name="lastChange"/>, and stores its
    /// <see cref="AlertNoticeKind.Settled"/> notice with it. Returns the notice's id, or null when it was not settled.
    /// </summary>
    Task<long?> SettleAsync(long id, DateTimeOffset lastChange, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// The notices not yet handed to every room they go to, oldest first, each with its alert as it is now and the
    /// rooms already handed it (<see cref="AlertNotice.HandedTo"/>).
    /// </summary>
    Task<IReadOnlyList<AlertNotice>> ListNoticesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: records the rooms <paramref name="handed"/> their notices (sent, or refused by the room's
    /// adapter), so a restart does not post them there again, and removes the <paramref name="finished"/> notices (every
    /// room they go to was handed them) with the rooms recorded for them. A room of a notice that is no longer stored is
    /// not recorded.
    /// </summary>
    Task RecordDeliveriesAsync(IReadOnlyCollection<AlertNoticeRoom> handed, IReadOnlyCollection<long> finished, CancellationToken cancellationToken);

    Task<AlertState?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>The rows for these (source, fingerprint) keys that exist.</summary>
    Task<IReadOnlyList<AlertState>> FindAsync(IReadOnlyCollection<(string Source, string Fingerprint)> keys, CancellationToken cancellationToken);

    /// <summary>Alerts firing now, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<AlertState>> ListFiringAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Alerts marked flapping.</summary>
    Task<IReadOnlyList<AlertState>> ListFlappingAsync(int limit, CancellationToken cancellationToken);

    /// <summary>How many alerts the board holds, and how many fire now.</summary>
    Task<(long Total, long Firing)> CountAsync(CancellationToken cancellationToken);
}
