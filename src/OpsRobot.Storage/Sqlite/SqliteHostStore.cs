using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using OpsRobot.Core.Cmdb;

namespace OpsRobot.Storage.Sqlite;

/// <summary>The built-in CMDB's hosts and their history in SQLite.</summary>
public sealed class SqliteHostStore(SqliteDatabase database) : SqliteStoreBase(database), IHostStore
{
    private const string Columns =
        "hostname AS Hostname, addresses AS Addresses, environment AS Environment, application AS Application, tags AS Tags, owner AS Owner, status AS Status, attributes AS Attributes";

    /// <summary>Names a statement asks for at once: well under SQLite's limit on parameters, and a short statement.</summary>
    private const int FindBatch = 500;

    public Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => FindAsync(c, null, hostname, cancellationToken), cancellationToken);

    public Task<IReadOnlyDictionary<string, HostRecord>> FindManyAsync(IReadOnlyCollection<string> hostnames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hostnames);
        return WithConnectionAsync<IReadOnlyDictionary<string, HostRecord>>(
            async c => await FindManyAsync(c, null, hostnames, cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    public Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);

        // SQL narrows by the indexed fields; HostRules.Matches then decides, so wildcards, tags and case rules are
        // the same here as in every other inventory. The application prefix is compared with substr, not LIKE, so
        // '_' in a node name means itself.
        var app = string.IsNullOrWhiteSpace(query.Application) ? null : query.Application.Trim().Trim('/');
        var env = string.IsNullOrWhiteSpace(query.Environment) ? null : query.Environment.Trim().ToLowerInvariant();
        return WithConnectionAsync<IReadOnlyList<HostRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(
                $"""
                SELECT {Columns} FROM hosts
                WHERE (@app IS NULL OR application = @app OR substr(application, 1, length(@app) + 1) = @app || '/')
                  AND (@env IS NULL OR environment = @env)
                ORDER BY hostname
                """,
                new { app, env }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .Select(r => r.ToRecord()).Where(h => HostRules.Matches(h, query))],
            cancellationToken);
    }

    public Task<IReadOnlyList<HostChange>> ApplyAsync(IReadOnlyList<HostRecord> upserts, IReadOnlyList<string> deletes, HostActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(deletes);
        ArgumentNullException.ThrowIfNull(actor);
        return InTransactionAsync<IReadOnlyList<HostChange>>(async (c, tx) =>
        {
            var changes = new List<HostChange>(upserts.Count + deletes.Count);
            var at = ToUnixMs(actor.At);

            // What each named host is now, read in batches inside the transaction; kept current as the loop writes,
            // so a name given twice compares with what the first wrote.
            var stored = await FindManyAsync(c, tx, [.. upserts.Select(h => h.Hostname).Concat(deletes)], cancellationToken).ConfigureAwait(false);
            foreach (var host in upserts)
            {
                var before = stored.GetValueOrDefault(host.Hostname);
                var diff = HostDiff.Compute(before, host);
                if (before is not null && diff.Count == 0)
                {
                    changes.Add(new HostChange(HostChangeKind.Unchanged, host.Hostname, diff));
                    continue;
                }

                await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO hosts (hostname, addresses, environment, application, tags, owner, status, attributes, created_at, updated_at, updated_by)
                    VALUES (@Hostname, @Addresses, @Environment, @Application, @Tags, @Owner, @Status, @Attributes, @at, @at, @by)
                    ON CONFLICT (hostname) DO UPDATE SET
                        addresses = excluded.addresses, environment = excluded.environment, application = excluded.application,
                        tags = excluded.tags, owner = excluded.owner, status = excluded.status, attributes = excluded.attributes,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """,
                    new
                    {
                        host.Hostname,
                        Addresses = JsonSerializer.Serialize(host.Addresses),
                        host.Environment,
                        host.Application,
                        Tags = JsonSerializer.Serialize(host.Tags),
                        host.Owner,
                        host.Status,
                        Attributes = JsonSerializer.Serialize(host.Attributes),
                        at,
                        by = actor.Name,
                    }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var kind = before is null ? HostChangeKind.Created : HostChangeKind.Updated;
                await AppendHistoryAsync(c, tx, host.Hostname, actor, kind, diff, cancellationToken).ConfigureAwait(false);
                changes.Add(new HostChange(kind, host.Hostname, diff));
                stored[host.Hostname] = host;
            }

            foreach (var hostname in deletes)
            {
                if (!stored.Remove(hostname, out var before))
                {
                    continue;
                }

                await c.ExecuteAsync(new CommandDefinition("DELETE FROM hosts WHERE hostname = @hostname", new { hostname }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var diff = HostDiff.Compute(before, null);
                await AppendHistoryAsync(c, tx, hostname, actor, HostChangeKind.Deleted, diff, cancellationToken).ConfigureAwait(false);
                changes.Add(new HostChange(HostChangeKind.Deleted, hostname, diff));
            }

            return changes;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<HostHistoryEntry>> HistoryAsync(string hostname, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<HostHistoryEntry>>(async c =>
            [.. (await c.QueryAsync<HistoryRow>(new CommandDefinition(
                "SELECT id AS Id, hostname AS Hostname, at AS At, actor AS Actor, door AS Door, change AS Change, diff AS Diff FROM host_history WHERE hostname = @hostname ORDER BY id DESC LIMIT @limit",
                new { hostname, limit = Math.Clamp(limit, 1, 10_000) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToEntry())],
            cancellationToken);

    private static async Task<HostRecord?> FindAsync(SqliteConnection c, SqliteTransaction? tx, string hostname, CancellationToken cancellationToken) =>
        (await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM hosts WHERE hostname = @hostname", new { hostname }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false))?.ToRecord();

    private static async Task<Dictionary<string, HostRecord>> FindManyAsync(SqliteConnection c, SqliteTransaction? tx, IEnumerable<string> hostnames, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, HostRecord>(StringComparer.Ordinal);
        foreach (var batch in hostnames.Distinct(StringComparer.Ordinal).Chunk(FindBatch))
        {
            // Dapper expands the array into one parameter a name.
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM hosts WHERE hostname IN @batch", new { batch }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                found[row.Hostname] = row.ToRecord();
            }
        }

        return found;
    }

    private static Task<int> AppendHistoryAsync(SqliteConnection c, SqliteTransaction tx, string hostname, HostActor actor, HostChangeKind kind, JsonObject diff, CancellationToken cancellationToken) =>
        c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO host_history (hostname, at, actor, door, change, diff) VALUES (@hostname, @at, @actor, @door, @change, @diff)",
            new { hostname, at = ToUnixMs(actor.At), actor = actor.Name, door = actor.Door, change = CmdbService.Wire(kind), diff = diff.ToJsonString() },
            tx, cancellationToken: cancellationToken));

    private sealed class Row
    {
        public string Hostname { get; set; } = string.Empty;

        public string Addresses { get; set; } = "[]";

        public string? Environment { get; set; }

        public string? Application { get; set; }

        public string Tags { get; set; } = "[]";

        public string? Owner { get; set; }

        public string Status { get; set; } = HostStatuses.Active;

        public string Attributes { get; set; } = "{}";

        public HostRecord ToRecord() => new(
            Hostname,
            JsonSerializer.Deserialize<List<string>>(Addresses) ?? [],
            Environment,
            Application,
            JsonSerializer.Deserialize<List<string>>(Tags) ?? [],
            Owner,
            Status,
            new SortedDictionary<string, string>(JsonSerializer.Deserialize<Dictionary<string, string>>(Attributes) ?? [], StringComparer.Ordinal));
    }

    private sealed class HistoryRow
    {
        public long Id { get; set; }

        public string Hostname { get; set; } = string.Empty;

        public long At { get; set; }

        public string Actor { get; set; } = string.Empty;

        public string Door { get; set; } = string.Empty;

        public string Change { get; set; } = string.Empty;

        public string Diff { get; set; } = "{}";

        public HostHistoryEntry ToEntry() => new(
            Id, Hostname, FromUnixMs(At), Actor, Door,
            Enum.TryParse<HostChangeKind>(Change, ignoreCase: true, out var kind) ? kind : HostChangeKind.Updated,
            JsonNode.Parse(Diff) as JsonObject ?? []);
    }
}
