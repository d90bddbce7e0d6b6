using Dapper;
using OpsRobot.Core.Datastore;

namespace OpsRobot.Storage.Sqlite;

/// <summary>The datastore's keys in SQLite. Secrets arrive already encrypted; this store never sees a clear secret.</summary>
public sealed class SqliteKeyValueStore(SqliteDatabase database) : SqliteStoreBase(database), IKeyValueStore
{
    private const string Columns =
        "scope AS Scope, owner AS Owner, name AS Name, value AS Value, secret AS Secret, expires_at AS ExpiresAt, updated_at AS UpdatedAt, updated_by AS UpdatedBy";

    private const string Live = "(expires_at IS NULL OR expires_at > @now)";

    public Task<KeyValueRecord?> GetAsync(KeyValueScope scope, string owner, string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM kv_pairs WHERE scope = @scope AND owner = @owner AND name = @name AND {Live}",
            new { scope = Wire(scope), owner, name, now = ToUnixMs(now) }, cancellationToken: cancellationToken)).ConfigureAwait(false))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<KeyValueRecord>> ListAsync(KeyValueScope scope, string owner, string prefix, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);

        // A range on the primary key rather than LIKE, so '%' and '_' in a prefix mean themselves.
        return WithConnectionAsync<IReadOnlyList<KeyValueRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM kv_pairs WHERE scope = @scope AND owner = @owner AND name >= @prefix AND substr(name, 1, length(@prefix)) = @prefix AND {Live} ORDER BY name LIMIT @limit",
                new { scope = Wire(scope), owner, prefix, now = ToUnixMs(now), limit = Math.Clamp(limit, 1, 10_000) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);
    }

    public Task SetAsync(KeyValueRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO kv_pairs (scope, owner, name, value, secret, expires_at, updated_at, updated_by)
            VALUES (@Scope, @Owner, @Name, @Value, @Secret, @ExpiresAt, @UpdatedAt, @UpdatedBy)
            ON CONFLICT (scope, owner, name) DO UPDATE SET
                value = excluded.value, secret = excluded.secret, expires_at = excluded.expires_at,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """,
            new
            {
                Scope = Wire(record.Scope),
                record.Owner,
                record.Name,
                record.Value,
                Secret = record.Secret ? 1 : 0,
                ExpiresAt = record.ExpiresAt?.ToUnixTimeMilliseconds(),
                UpdatedAt = ToUnixMs(record.UpdatedAt),
                record.UpdatedBy,
            }, cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task<bool> DeleteAsync(KeyValueScope scope, string owner, string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM kv_pairs WHERE scope = @scope AND owner = @owner AND name = @name AND {Live}",
            new { scope = Wire(scope), owner, name, now = ToUnixMs(now) }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1, cancellationToken);

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM kv_pairs WHERE expires_at IS NOT NULL AND expires_at <= @now", new { now = ToUnixMs(now) }, cancellationToken: cancellationToken)), cancellationToken);

    private static string Wire(KeyValueScope scope) => scope == KeyValueScope.System ? "system" : "user";

    private sealed class Row
    {
        public string Scope { get; set; } = "system";

        public string Owner { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public string Value { get; set; } = string.Empty;

        public long Secret { get; set; }

        public long? ExpiresAt { get; set; }

        public long UpdatedAt { get; set; }

        public string UpdatedBy { get; set; } = string.Empty;

        public KeyValueRecord ToRecord() => new()
        {
            Scope = Scope == "user" ? KeyValueScope.User : KeyValueScope.System,
            Owner = Owner,
            Name = Name,
            Value = Value,
            Secret = Secret != 0,
            ExpiresAt = FromUnixMs(ExpiresAt),
            UpdatedAt = FromUnixMs(UpdatedAt),
            UpdatedBy = UpdatedBy,
        };
    }
}
