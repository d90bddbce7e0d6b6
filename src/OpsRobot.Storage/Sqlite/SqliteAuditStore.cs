using System.Text;
using Dapper;
using OpsRobot.Core.Audit;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// The audit trail in SQLite. Appends run in one immediate transaction that reads the last record's id and hash
/// and writes the new records after it, so two processes writing the same file still make one unbroken chain.
/// </summary>
public sealed class SqliteAuditStore(SqliteDatabase database) : SqliteStoreBase(database), IAuditStore
{
    private const string Columns =
        "id AS Id, at AS At, kind AS Kind, actor AS Actor, door AS Door, place AS Place, subject AS Subject, decision AS Decision, rule AS Rule, detail AS Detail, prev_hash AS PreviousHash, hash AS Hash";

    public Task<IReadOnlyList<AuditRecord>> AppendAsync(IReadOnlyList<(DateTimeOffset At, AuditEntry Entry, string Detail)> entries, Func<string, AuditRecord, string> hash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hash);

        // Through the group-committing writer, whose transaction takes the write lock first (IMMEDIATE): the last
        // record read here is the last one in the file, whichever process wrote it.
        return Database.Writer.WriteAsync<IReadOnlyList<AuditRecord>>(context =>
        {
            // The chain's last link: read once per transaction (which holds the write lock, so no other process
            // can add one meanwhile), then carried from unit to unit.
            long previousId = 0;
            var previousHash = AuditChain.Genesis;
            if (context.Fact<ChainTail>(ChainTailFact) is { } tail)
            {
                (previousId, previousHash) = (tail.Id, tail.Hash);
            }
            else
            {
                var last = context.Statement("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
                if (last.Step())
                {
                    previousId = last.ColumnInt64(0);
                    previousHash = last.ColumnText(1)!;
                }
            }

            var stored = new List<AuditRecord>(entries.Count);
            foreach (var (at, entry, detail) in entries)
            {
                var record = new AuditRecord
                {
                    Id = previousId + 1,
                    At = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()),
                    Kind = entry.Kind,
                    Actor = entry.Actor,
                    Door = entry.Door,
                    Place = entry.Place,
                    Subject = entry.Subject,
                    Decision = entry.Decision,
                    Rule = entry.Rule,
                    Detail = detail,
                    PreviousHash = previousHash,
                    Hash = string.Empty,
                };
                record = record with { Hash = hash(previousHash, record) };
                context.Statement(
                    "INSERT INTO audit (id, at, kind, actor, door, place, subject, decision, rule, detail, prev_hash, hash) " +
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
                    .Bind(1, record.Id).Bind(2, ToUnixMs(record.At)).Bind(3, record.Kind).Bind(4, record.Actor).Bind(5, record.Door)
                    .Bind(6, record.Place).Bind(7, record.Subject).Bind(8, record.Decision).Bind(9, record.Rule)
                    .Bind(10, record.Detail).Bind(11, record.PreviousHash).Bind(12, record.Hash).Execute();
                stored.Add(record);
                previousId = record.Id;
                previousHash = record.Hash;
            }

            context.Remember(ChainTailFact, new ChainTail(previousId, previousHash));
            return stored;
        }, cancellationToken);
    }

    private const string ChainTailFact = "audit.tail";

    private sealed record ChainTail(long Id, string Hash);

    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT {Columns} FROM audit WHERE 1 = 1");
        var args = new DynamicParameters();
        if (query.Actor is { } actor)
        {
            sql.Append(" AND actor = @actor");
            args.Add("actor", actor);
        }

        if (query.Kind is { } kind)
        {
            if (kind.EndsWith('*') || kind.EndsWith('.'))
            {
                var prefix = kind.TrimEnd('*');
                sql.Append(" AND substr(kind, 1, length(@kindPrefix)) = @kindPrefix");
                args.Add("kindPrefix", prefix);
            }
            else
            {
                sql.Append(" AND kind = @kind");
                args.Add("kind", kind);
            }
        }

        if (query.Decision is { } decision)
        {
            sql.Append(" AND decision = @decision");
            args.Add("decision", decision);
        }

        if (query.Subject is { } subject)
        {
            sql.Append(" AND instr(subject, @subject) > 0");
            args.Add("subject", subject);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND at >= @since");
            args.Add("since", ToUnixMs(since));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND at < @until");
            args.Add("until", ToUnixMs(until));
        }

        if (query.BeforeId is { } before)
        {
            sql.Append(" AND id < @before");
            args.Add("before", before);
        }

        sql.Append(" ORDER BY id DESC LIMIT @limit");
        args.Add("limit", Math.Clamp(query.Limit, 1, 1000));
        return WithConnectionAsync(async c => (IReadOnlyList<AuditRecord>)(await c.QueryAsync<Row>(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(Map).ToList(), cancellationToken);
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(long afterId, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<AuditRecord>)(await c.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM audit WHERE id > @afterId ORDER BY id LIMIT @limit", new { afterId, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(Map).ToList(), cancellationToken);

    private static AuditRecord Map(Row r) => new()
    {
        Id = r.Id,
        At = FromUnixMs(r.At),
        Kind = r.Kind,
        Actor = r.Actor,
        Door = r.Door,
        Place = r.Place,
        Subject = r.Subject,
        Decision = r.Decision,
        Rule = r.Rule,
        Detail = r.Detail,
        PreviousHash = r.PreviousHash,
        Hash = r.Hash,
    };

    private sealed class Row
    {
        public long Id { get; set; }

        public long At { get; set; }

        public string Kind { get; set; } = "";

        public string Actor { get; set; } = "";

        public string Door { get; set; } = "";

        public string? Place { get; set; }

        public string? Subject { get; set; }

        public string? Decision { get; set; }

        public string? Rule { get; set; }

        public string Detail { get; set; } = "{}";

        public string PreviousHash { get; set; } = "";

        public string Hash { get; set; } = "";
    }
}
