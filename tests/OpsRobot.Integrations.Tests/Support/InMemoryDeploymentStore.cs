using OpsRobot.Core.Deployments;

namespace OpsRobot.Integrations.Tests.Support;

/// <summary>The deployment record in memory, with the SQLite store's semantics (tested against SQLite in Storage.Tests).</summary>
public sealed class InMemoryDeploymentStore : IDeploymentStore
{
    private readonly List<DeploymentRecord> _rows = [];

    public IReadOnlyList<DeploymentRecord> All
    {
        get
        {
            lock (_rows)
            {
                return [.. _rows];
            }
        }
    }

    public Task<long> StartAsync(DeploymentRecord record, CancellationToken cancellationToken)
    {
        lock (_rows)
        {
            var id = _rows.Count + 1L;
            _rows.Add(record with { Id = id, Status = DeploymentStatus.Running });
            return Task.FromResult(id);
        }
    }

    public Task<bool> FinishAsync(long id, DeploymentStatus status, DateTimeOffset endedAt, string? failure, CancellationToken cancellationToken)
    {
        lock (_rows)
        {
            var index = _rows.FindIndex(r => r.Id == id && r.Status == DeploymentStatus.Running);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _rows[index] = _rows[index] with { Status = status, EndedAt = endedAt, Error = failure };
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<DeploymentRecord>> CurrentAsync(string? app, string? environment, CancellationToken cancellationToken)
    {
        lock (_rows)
        {
            IReadOnlyList<DeploymentRecord> current = [.. _rows
                .Where(r => r.Status == DeploymentStatus.Succeeded)
                .GroupBy(r => (r.App, r.Environment))
                .Select(g => g.MaxBy(r => r.Id)!)
                .Where(r => (app is null || r.App == app) && (environment is null || r.Environment == environment))
                .OrderBy(r => r.App, StringComparer.Ordinal).ThenBy(r => r.Environment, StringComparer.Ordinal)];
            return Task.FromResult(current);
        }
    }

    public Task<IReadOnlyList<DeploymentRecord>> HistoryAsync(string app, string environment, int limit, CancellationToken cancellationToken)
    {
        lock (_rows)
        {
            IReadOnlyList<DeploymentRecord> history = [.. _rows.Where(r => r.App == app && r.Environment == environment).OrderByDescending(r => r.Id).Take(limit)];
            return Task.FromResult(history);
        }
    }
}
