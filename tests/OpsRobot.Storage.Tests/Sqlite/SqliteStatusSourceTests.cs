using OpsRobot.Core.Status;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

public sealed class SqliteStatusSourceTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-status");
    private readonly TestTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task GetStatus_MigratedFile_HealthyWithSchemaVersionAndPath()
    {
        var database = SqliteTestDatabase.Create(_dir.Combine("data", "opsrobot.db"));
        Directory.CreateDirectory(_dir.Combine("data"));
        await database.MigrateAsync(_time, CancellationToken.None);

        var status = await new SqliteStatusSource(database).GetStatusAsync(CancellationToken.None);

        var version = await SqliteTestDatabase.ScalarAsync(database, "SELECT MAX(version) FROM schema_migrations");
        status.ShouldBe(new ComponentStatus("store", HealthState.Healthy, $"sqlite, schema v{version}, {database.FilePath}"));
    }

    [Fact]
    public async Task GetStatus_DataFolderDeletedWhileRunning_UnhealthyWithoutThrowing()
    {
        var (database, store) = await RunningStoreAsync("data");
        await store.CountAsync(CancellationToken.None);

        Directory.Delete(_dir.Combine("data"), recursive: true);
        var status = await new SqliteStatusSource(database).GetStatusAsync(CancellationToken.None);

        status.Component.ShouldBe("store");
        status.State.ShouldBe(HealthState.Unhealthy);
        status.Detail.ShouldStartWith("sqlite: ");
    }

    [Fact]
    public async Task GetStatus_DataFolderReplacedByAFileWhileRunning_UnhealthyWithoutThrowing()
    {
        var (database, store) = await RunningStoreAsync("data");
        await store.CountAsync(CancellationToken.None);

        Directory.Delete(_dir.Combine("data"), recursive: true);
        File.WriteAllText(_dir.Combine("data"), "not a folder");
        var status = await new SqliteStatusSource(database).GetStatusAsync(CancellationToken.None);

        status.State.ShouldBe(HealthState.Unhealthy);
        status.Detail.ShouldStartWith("sqlite: ");
    }

    [Fact]
    public async Task GetStatus_StartedOnAFolderThatIsNotThere_UnhealthyWithoutThrowing()
    {
        var database = SqliteTestDatabase.Create(_dir.Combine("never-made", "opsrobot.db"));

        var status = await new SqliteStatusSource(database).GetStatusAsync(CancellationToken.None);

        status.State.ShouldBe(HealthState.Unhealthy);
        status.Detail.ShouldStartWith("sqlite: ");
    }

    [Fact]
    public async Task GetStatus_PathUnderAFile_UnhealthyWithoutThrowing()
    {
        File.WriteAllText(_dir.Combine("data"), "not a folder");
        var database = SqliteTestDatabase.Create(_dir.Combine("data", "opsrobot.db"));

        var status = await new SqliteStatusSource(database).GetStatusAsync(CancellationToken.None);

        status.State.ShouldBe(HealthState.Unhealthy);
    }

    private async Task<(SqliteDatabase Database, SqliteUserStore Users)> RunningStoreAsync(string folder)
    {
        Directory.CreateDirectory(_dir.Combine(folder));
        var database = SqliteTestDatabase.Create(_dir.Combine(folder, "opsrobot.db"));
        await database.MigrateAsync(_time, CancellationToken.None);
        return (database, new SqliteUserStore(database, _time));
    }
}
