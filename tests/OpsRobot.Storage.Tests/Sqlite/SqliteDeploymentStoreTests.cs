using OpsRobot.Core.Deployments;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>The deployment record in a real SQLite file: what is where, history, finishing only running rows.</summary>
public sealed class SqliteDeploymentStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-deploystore");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private SqliteDeploymentStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        _store = new SqliteDeploymentStore(_database);
    }

    public async Task DisposeAsync()
    {
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    [Fact]
    public async Task CurrentAsync_IsTheLastSucceededDeploymentPerAppAndEnvironment()
    {
        await DeployAsync("booking", "prod", "1.4.0", DeploymentStatus.Succeeded, previous: null);
        await DeployAsync("booking", "prod", "1.4.1", DeploymentStatus.Succeeded, previous: "1.4.0");
        await DeployAsync("booking", "prod", "1.4.2", DeploymentStatus.Failed, previous: "1.4.1");
        await DeployAsync("booking", "staging", "1.5.0", DeploymentStatus.Succeeded, previous: null);
        await DeployAsync("search", "prod", "7", DeploymentStatus.Succeeded, previous: null);
        var running = await _store.StartAsync(Record("search", "prod", "8", null), CancellationToken.None);

        var all = await _store.CurrentAsync(null, null, CancellationToken.None);
        all.Select(d => $"{d.App}/{d.Environment}={d.Version}").ShouldBe(["booking/prod=1.4.1", "booking/staging=1.5.0", "search/prod=7"]);
        (await _store.CurrentAsync("booking", null, CancellationToken.None)).Count.ShouldBe(2);
        (await _store.CurrentAsync(null, "prod", CancellationToken.None)).Select(d => d.App).ShouldBe(["booking", "search"]);
        var current = (await _store.CurrentAsync("booking", "prod", CancellationToken.None)).ShouldHaveSingleItem();
        current.PreviousVersion.ShouldBe("1.4.0");
        current.RequestedBy.ShouldBe("alice");
        current.EndedAt.ShouldNotBeNull();

        (await _store.FinishAsync(running, DeploymentStatus.Succeeded, _time.GetUtcNow(), null, CancellationToken.None)).ShouldBeTrue();
        (await _store.FinishAsync(running, DeploymentStatus.Failed, _time.GetUtcNow(), "again", CancellationToken.None)).ShouldBeFalse();
        (await _store.CurrentAsync("search", "prod", CancellationToken.None)).ShouldHaveSingleItem().Version.ShouldBe("8");
    }

    [Fact]
    public async Task HistoryAsync_IsNewestFirst_WithFailuresAndTheirReasons()
    {
        await DeployAsync("booking", "prod", "1.4.0", DeploymentStatus.Succeeded, previous: null);
        await DeployAsync("booking", "prod", "1.4.1", DeploymentStatus.Failed, previous: "1.4.0");

        var history = await _store.HistoryAsync("booking", "prod", 10, CancellationToken.None);

        history.Select(h => (h.Version, h.Status)).ShouldBe([("1.4.1", DeploymentStatus.Failed), ("1.4.0", DeploymentStatus.Succeeded)]);
        history[0].Error.ShouldBe("it broke");
        (await _store.HistoryAsync("booking", "staging", 10, CancellationToken.None)).ShouldBeEmpty();
    }

    private async Task DeployAsync(string app, string env, string version, DeploymentStatus status, string? previous)
    {
        var id = await _store.StartAsync(Record(app, env, version, previous), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        (await _store.FinishAsync(id, status, _time.GetUtcNow(), status == DeploymentStatus.Failed ? "it broke" : null, CancellationToken.None)).ShouldBeTrue();
    }

    private DeploymentRecord Record(string app, string env, string version, string? previous) => new()
    {
        App = app,
        Version = version,
        Environment = env,
        Kind = "deploy",
        Backend = "ansible",
        Status = DeploymentStatus.Running,
        RequestedBy = "alice",
        ExecutionId = 42,
        PreviousVersion = previous,
        StartedAt = _time.GetUtcNow(),
    };
}
