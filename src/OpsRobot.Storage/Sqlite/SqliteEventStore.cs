using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using OpsRobot.Core.Events;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Events and rule enforcements in SQLite.</summary>
public sealed class SqliteEventStore(SqliteDatabase database) : SqliteStoreBase(database), IEventStore
{
    /// <summary>The most events or enforcements one read returns.</summary>
    public const int MaxPage = 1000;

    private const string EventColumns =
        "id AS Id, trigger_type AS TriggerType, payload AS Payload, source AS Source, received_at AS ReceivedAt, status AS Status, processed_at AS ProcessedAt";

    private const string EnforcementColumns =
        "id AS Id, rule_ref AS RuleRef, event_id AS EventId, trigger_type AS TriggerType, action_ref AS ActionRef, status AS Status, " +
        "parameters AS Parameters, execution_id AS ExecutionId, error AS Error, created_at AS CreatedAt, updated_at AS UpdatedAt";

    public Task<EventRecord> AppendAsync(EventRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var payload = record.Payload.ToJsonString();

        // Through the group-committing writer: a burst of webhooks queues in order and shares commits instead of
        // sixteen requests racing for SQLite's write lock (whose busy wait is not fair: under a flood some waited
        // past the busy timeout and were refused).
        return Database.Writer.WriteAsync(context =>
        {
            var id = context.Statement(
                """
                INSERT INTO events (trigger_type, payload, source, received_at, status)
                VALUES (?1, ?2, ?3, ?4, 'pending')
                """)
                .Bind(1, record.TriggerType).Bind(2, payload).Bind(3, record.Source).Bind(4, ToUnixMs(record.ReceivedAt))
                .ExecuteInsert() ?? throw new InvalidOperationException("The event insert stored no row.");
            return record with { Id = id, Status = EventStatus.Pending, ProcessedAt = null };
        }, cancellationToken);
    }

    public Task<EventRecord?> GetAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
                $"SELECT {EventColumns} FROM events WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row?.ToRecord();
        }, cancellationToken);

    public Task<IReadOnlyList<EventRecord>> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT {EventColumns} FROM events WHERE 1 = 1");
        var args = new DynamicParameters();
        if (query.TriggerType is not null)
        {
            sql.Append(" AND trigger_type = @type");
            args.Add("type", query.TriggerType);
        }

        if (query.Status is { } status)
        {
            sql.Append(" AND status = @status");
            args.Add("status", Wire(status));
        }

        if (query.BeforeId is { } before)
        {
            sql.Append(" AND id < @before");
            args.Add("before", before);
        }

        sql.Append(" ORDER BY id DESC LIMIT @limit");
        args.Add("limit", Math.Clamp(query.Limit, 1, MaxPage));
        return WithConnectionAsync<IReadOnlyList<EventRecord>>(async c =>
            [.. (await c.QueryAsync<EventRow>(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);
    }

    public Task<IReadOnlyList<EventRecord>> ListPendingAsync(long afterId, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<EventRecord>>(async c =>
            [.. (await c.QueryAsync<EventRow>(new CommandDefinition(
                $"SELECT {EventColumns} FROM events WHERE status = 'pending' AND id > @afterId ORDER BY id LIMIT @limit",
                new { afterId, limit = Math.Clamp(limit, 1, MaxPage) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);

    // The rule engine's writes go through the group-committing writer, as the intake's do: under a burst they share
    // its commits instead of fighting it for SQLite's write lock one statement at a time.
    public async Task<bool> MarkProcessedAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await MarkProcessedAsync([id], at, cancellationToken).ConfigureAwait(false) == 1;

    public Task<int> MarkProcessedAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var when = ToUnixMs(at);
        return Database.Writer.WriteAsync(context =>
        {
            var marked = 0;
            foreach (var id in ids)
            {
                marked += context.Statement("UPDATE events SET status = 'processed', processed_at = ?1 WHERE id = ?2 AND status = 'pending'")
                    .Bind(1, when).Bind(2, id).ExecuteNonQuery();
            }

            return marked;
        }, cancellationToken);
    }

    public Task<EnforcementRecord?> TryBeginEnforcementAsync(EnforcementRecord enforcement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(enforcement);
        var parameters = enforcement.Parameters?.ToJsonString();
        return Database.Writer.WriteAsync(context =>
        {
            // ON CONFLICT DO NOTHING inserts nothing when (event, rule) already has an enforcement.
            var id = context.Statement(
                """
                INSERT INTO rule_enforcements (rule_ref, event_id, trigger_type, action_ref, status, parameters, created_at)
                VALUES (?1, ?2, ?3, ?4, 'starting', ?5, ?6)
                ON CONFLICT (event_id, rule_ref) DO NOTHING
                """)
                .Bind(1, enforcement.RuleRef).Bind(2, enforcement.EventId).Bind(3, enforcement.TriggerType).Bind(4, enforcement.ActionRef)
                .Bind(5, parameters).Bind(6, ToUnixMs(enforcement.CreatedAt))
                .ExecuteInsert();
            return id is { } stored ? enforcement with { Id = stored, Status = EnforcementStatus.Starting } : null;
        }, cancellationToken);
    }

    public Task CompleteEnforcementAsync(long id, EnforcementStatus status, long? executionId, string? reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        Database.Writer.WriteAsync(context =>
        {
            context.Statement("UPDATE rule_enforcements SET status = ?1, execution_id = ?2, error = ?3, updated_at = ?4 WHERE id = ?5")
                .Bind(1, Wire(status)).Bind(2, executionId).Bind(3, reason).Bind(4, ToUnixMs(at)).Bind(5, id).Execute();
            return true;
        }, cancellationToken);

    public Task DeleteStartingEnforcementAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM rule_enforcements WHERE id = @id AND status = 'starting'", new { id }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<EnforcementRecord>> ListEnforcementsAsync(EnforcementQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT {EnforcementColumns} FROM rule_enforcements WHERE 1 = 1");
        var args = new DynamicParameters();
        if (query.RuleRef is not null)
        {
            sql.Append(" AND rule_ref = @rule");
            args.Add("rule", query.RuleRef);
        }

        if (query.EventId is { } eventId)
        {
            sql.Append(" AND event_id = @eventId");
            args.Add("eventId", eventId);
        }

        if (query.BeforeId is { } before)
        {
            sql.Append(" AND id < @before");
            args.Add("before", before);
        }

        sql.Append(" ORDER BY id DESC LIMIT @limit");
        args.Add("limit", Math.Clamp(query.Limit, 1, MaxPage));
        return WithConnectionAsync<IReadOnlyList<EnforcementRecord>>(async c =>
            [.. (await c.QueryAsync<EnforcementRow>(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);
    }

    public Task<int> FailStartingEnforcementsAsync(string reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE rule_enforcements SET status = 'failed', error = @reason, updated_at = @at WHERE status = 'starting'",
            new { reason, at = ToUnixMs(at) }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<int> PurgeProcessedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        InTransactionAsync(async (c, tx) =>
        {
            var args = new { before = ToUnixMs(before), limit = Math.Max(1, limit) };
            const string Victims = "SELECT id FROM events WHERE status = 'processed' AND received_at < @before ORDER BY id LIMIT @limit";
            await c.ExecuteAsync(new CommandDefinition($"DELETE FROM rule_enforcements WHERE event_id IN ({Victims})", args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return await c.ExecuteAsync(new CommandDefinition($"DELETE FROM events WHERE id IN ({Victims})", args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }, cancellationToken);

    private static string Wire(EventStatus status) => status == EventStatus.Pending ? "pending" : "processed";

    private static string Wire(EnforcementStatus status) => status.ToString().ToLowerInvariant();

    private sealed class EventRow
    {
        public long Id { get; set; }

        public string TriggerType { get; set; } = string.Empty;

        public string Payload { get; set; } = "{}";

        public string Source { get; set; } = string.Empty;

        public long ReceivedAt { get; set; }

        public string Status { get; set; } = "pending";

        public long? ProcessedAt { get; set; }

        public EventRecord ToRecord() => new()
        {
            Id = Id,
            TriggerType = TriggerType,
            Payload = StoredJson.Object(Payload, out var problem) ?? [],
            Source = Source,
            ReceivedAt = FromUnixMs(ReceivedAt),
            Status = Status == "processed" ? EventStatus.Processed : EventStatus.Pending,
            ProcessedAt = FromUnixMs(ProcessedAt),
            Damage = problem is null ? null : $"the stored payload: {problem}",
        };
    }

    private sealed class EnforcementRow
    {
        public long Id { get; set; }

        public string RuleRef { get; set; } = string.Empty;

        public long EventId { get; set; }

        public string TriggerType { get; set; } = string.Empty;

        public string ActionRef { get; set; } = string.Empty;

        public string Status { get; set; } = "starting";

        public string? Parameters { get; set; }

        public long? ExecutionId { get; set; }

        public string? Error { get; set; }

        public long CreatedAt { get; set; }

        public long? UpdatedAt { get; set; }

        public EnforcementRecord ToRecord() => new()
        {
            Id = Id,
            RuleRef = RuleRef,
            EventId = EventId,
            TriggerType = TriggerType,
            ActionRef = ActionRef,
            Status = Enum.Parse<EnforcementStatus>(Status, ignoreCase: true),
            Parameters = Parameters is null ? null : JsonNode.Parse(Parameters) as JsonObject,
            ExecutionId = ExecutionId,
            Error = Error,
            CreatedAt = FromUnixMs(CreatedAt),
            UpdatedAt = FromUnixMs(UpdatedAt),
        };
    }
}
