using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>The store contract against a real SQLite file in a temporary folder.</summary>
public sealed class SqliteStoreTests : StoreContractTests
{
    private readonly TempDirectory _dir = new("opsrobot-store");
    private readonly List<SqliteDatabase> _opened = [];

    protected override int MaxPage => SqliteRoomStore.MaxPage;

    protected override async Task<StoreSet> OpenStoresAsync()
    {
        // Each instance reaches the file through its own folder link, so it gets its own connection pool, as a
        // second process would, rather than sharing the first instance's connections.
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
        return new StoreSet(new SqliteUserStore(database, Time), new SqliteRoomStore(database), new SqliteExecutionStore(database), new SqliteAccessStore(database, Time), new SqliteAuditStore(database));
    }

    protected override async Task<StoreSet> RestartAsync()
    {
        await CloseAllAsync();
        return await OpenStoresAsync();
    }

    public override async Task DisposeAsync()
    {
        await CloseAllAsync();
        _dir.Dispose();
    }

    private async Task CloseAllAsync()
    {
        foreach (var database in _opened)
        {
            await SqliteTestDatabase.ClosePoolAsync(database);
        }
    }
}
