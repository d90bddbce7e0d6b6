using OpsRobot.Core.Events;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Events;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>The event store contract against a real SQLite file.</summary>
public sealed class SqliteEventStoreTests : EventStoreContractTests
{
    private readonly TempDirectory _dir = new("opsrobot-events");
    private readonly List<SqliteDatabase> _opened = [];

    protected override async Task<IEventStore> OpenAsync()
    {
        var folder = _dir.Combine($"view{_opened.Count}");
        if (_opened.Count == 0)
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateSymbolicLink(folder, _dir.Combine("view0"));
        }

        var database = SqliteTestDatabase.Create(Path.Combine(folder, "opsrobot.db"));
        _opened.Add(database);
        await database.MigrateAsync(Time, CancellationToken.None);
        return new SqliteEventStore(database);
    }

    protected override async Task<IEventStore> RestartAsync()
    {
        foreach (var database in _opened)
        {
            await SqliteTestDatabase.ClosePoolAsync(database);
        }

        return await OpenAsync();
    }

    public override async Task DisposeAsync()
    {
        foreach (var database in _opened)
        {
            await SqliteTestDatabase.ClosePoolAsync(database);
        }

        _dir.Dispose();
    }
}
