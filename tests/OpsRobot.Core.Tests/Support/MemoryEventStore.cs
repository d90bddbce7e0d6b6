using OpsRobot.Core.Events;

namespace OpsRobot.Core.Tests.Support;

/// <summary>Keeps appended events in memory: enough for sensors and the publisher, which only append. Thread-safe.</summary>
internal sealed class MemoryEventStore : IEventStore
{
    private readonly Lock _gate = new();
    private readonly List<EventRecord> _events = [];

    public IReadOnlyList<EventRecord> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public Task<EventRecord> AppendAsync(EventRecord record, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var stored = record with { Id = _events.Count + 1 };
            _events.Add(stored);
            return Task.FromResult(stored);
        }
    }

    public Task<EventRecord?> GetAsync(long id, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<EventRecord>> ListAsync(EventQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<EventRecord>> ListPendingAsync(long afterId, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> MarkProcessedAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> MarkProcessedAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<EnforcementRecord?> TryBeginEnforcementAsync(EnforcementRecord enforcement, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task CompleteEnforcementAsync(long id, EnforcementStatus status, long? executionId, string? reason, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeleteStartingEnforcementAsync(long id, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<EnforcementRecord>> ListEnforcementsAsync(EnforcementQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> FailStartingEnforcementsAsync(string reason, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> PurgeProcessedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
}
