using Dapper;
using OpsRobot.Core.Deployments;

namespace OpsRobot.Storage.Sqlite;

/// <summary>The deployments' record in SQLite (migration 0009).</summary>
public sealed class SqliteDeploymentStore(SqliteDatabase database) : SqliteStoreBase(database), IDeploymentStore
{
    private const string Columns =
        "id AS Id, app AS App, version AS Version, environment AS Environment, kind AS Kind, backend AS Backend, status AS Status, "
        + "requested_by AS RequestedBy, execution_id AS ExecutionId, previous_version AS PreviousVersion, started_at AS StartedAt, ended_at AS EndedAt, error AS Error";

    public Task<long> StartAsync(DeploymentRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO deployments (app, version, environment, kind, backend, status, requested_by, execution_id, previous_version, started_at)
            VALUES (@App, @Version, @Environment, @Kind, @Backend, 'running', @RequestedBy, @ExecutionId, @PreviousVersion, @StartedAt)
            RETURNING id
            """,
            new
            {
                record.App,
                record.Version,
                record.Environment,
                record.Kind,
                record.Backend,
                record.RequestedBy,
                record.ExecutionId,
                record.PreviousVersion,
                StartedAt = ToUnixMs(record.StartedAt),
            }, cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task<bool> FinishAsync(long id, DeploymentStatus status, DateTimeOffset endedAt, string? failure, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "UPDATE deployments SET status = @status, ended_at = @endedAt, error = @error WHERE id = @id AND status = 'running'",
            new { id, status = Wire(status), endedAt = ToUnixMs(endedAt), error = failure }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1, cancellationToken);

    public Task<IReadOnlyList<DeploymentRecord>> CurrentAsync(string? app, string? environment, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<DeploymentRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(
                $"""
                SELECT {Columns} FROM deployments
                WHERE id IN (SELECT MAX(id) FROM deployments WHERE status = 'succeeded' GROUP BY app, environment)
                  AND (@app IS NULL OR app = @app) AND (@environment IS NULL OR environment = @environment)
                ORDER BY app, environment
                """,
                new { app, environment }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);

    public Task<IReadOnlyList<DeploymentRecord>> HistoryAsync(string app, string environment, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<DeploymentRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM deployments WHERE app = @app AND environment = @environment ORDER BY id DESC LIMIT @limit",
                new { app, environment, limit = Math.Clamp(limit, 1, 1000) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => r.ToRecord())],
            cancellationToken);

    private static string Wire(DeploymentStatus status) => status.ToString().ToLowerInvariant();

    private sealed class Row
    {
        public long Id { get; set; }

        public string App { get; set; } = string.Empty;

        public string Version { get; set; } = string.Empty;

        public string Environment { get; set; } = string.Empty;

        public string Kind { get; set; } = string.Empty;

        public string Backend { get; set; } = string.Empty;

        public string Status { get; set; } = string.Empty;

        public string RequestedBy { get; set; } = string.Empty;

        public long? ExecutionId { get; set; }

        public string? PreviousVersion { get; set; }

        public long StartedAt { get; set; }

        public long? EndedAt { get; set; }

        public string? Error { get; set; }

        public DeploymentRecord ToRecord() => new()
        {
            Id = Id,
            App = App,
            Version = Version,
            Environment = Environment,
            Kind = Kind,
            Backend = Backend,
            Status = Enum.Parse<DeploymentStatus>(Status, ignoreCase: true),
            RequestedBy = RequestedBy,
            ExecutionId = ExecutionId,
            PreviousVersion = PreviousVersion,
            StartedAt = FromUnixMs(StartedAt),
            EndedAt = FromUnixMs(EndedAt),
            Error = Error,
        };
    }
}
