using Dapper;
using OpsRobot.Core.Status;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Reports whether the SQLite file answers, for <c>!status</c> and <c>/health</c>.</summary>
public sealed class SqliteStatusSource(SqliteDatabase database) : IStatusSource
{
    public async ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var c = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            var version = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", cancellationToken: cancellationToken)).ConfigureAwait(false);
            return new ComponentStatus("store", HealthState.Healthy, $"sqlite, schema v{version}, {database.FilePath}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A health check reports every failure rather than throwing it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ComponentStatus("store", HealthState.Unhealthy, $"sqlite: {ex.Message}");
        }
    }
}
