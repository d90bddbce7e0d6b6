using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

public sealed class SqliteWriterTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-writer");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(Path.Combine(_dir.Path, "opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        await WriteAsync("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        if (File.Exists(_database.FilePath))
        {
            await SqliteTestDatabase.ClosePoolAsync(_database);
        }
        else
        {
            await _database.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task ManyCallersAtOnce_AllCommitted_InTheOrderTheyCalled()
    {
        var writes = Enumerable.Range(1, 2000).Select(i => _database.Writer.WriteAsync(c =>
        {
            c.Command("INSERT INTO t (v) VALUES ($v) RETURNING n", ("$v", $"w{i}")).ExecuteScalar();
            return i;
        }, CancellationToken.None)).ToList();

        await Task.WhenAll(writes);

        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM t")).ShouldBe(2000L);
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT v FROM t WHERE n = 1")).ShouldBe("w1");
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT v FROM t WHERE n = 2000")).ShouldBe("w2000");
    }

    [Fact]
    public async Task OneUnitFails_ItAloneIsRolledBack_TheOthersInItsBatchCommit()
    {
        var before = _database.Writer.WriteAsync(c => c.Command("INSERT INTO t (n, v) VALUES (1, 'a')").ExecuteNonQuery(), CancellationToken.None);
        var failing = _database.Writer.WriteAsync(c =>
        {
            c.Command("INSERT INTO t (n, v) VALUES (2, 'half done')").ExecuteNonQuery();
            return c.Command("INSERT INTO t (n, v) VALUES (1, 'duplicate')").ExecuteNonQuery();
        }, CancellationToken.None);
        var after = _database.Writer.WriteAsync(c => c.Command("INSERT INTO t (n, v) VALUES (3, 'c')").ExecuteNonQuery(), CancellationToken.None);

        await before;
        await Should.ThrowAsync<StoreConflictException>(() => failing);
        await after;

        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT group_concat(n) FROM (SELECT n FROM t ORDER BY n)")).ShouldBe("1,3");
    }

    [Fact]
    public async Task DatabaseFileRemoved_WritesFailWithTheStoresOwnError()
    {
        var rooms = new SqliteRoomStore(_database);
        var user = await new SqliteUserStore(_database, _time).CreateAsync("ann", "Ann", isAdmin: false, passwordHash: null, CancellationToken.None);
        var room = await rooms.CreateAsync("ops", string.Empty, user.Id, _time.GetUtcNow(), CancellationToken.None);
        await rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, "ann", "first", _time.GetUtcNow()), CancellationToken.None);

        File.Delete(_database.FilePath);

        var ex = await Should.ThrowAsync<StoreUnavailableException>(() =>
            rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, "ann", "second", _time.GetUtcNow()), CancellationToken.None));
        ex.Message.ShouldContain("is gone");
    }

    [Fact]
    public async Task CanceledBeforeItRuns_IsNotWritten()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() =>
            _database.Writer.WriteAsync(c => c.Command("INSERT INTO t (v) VALUES ('x')").ExecuteNonQuery(), cts.Token));

        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM t")).ShouldBe(0L);
    }

    private Task<int> WriteAsync(string sql) => _database.Writer.WriteAsync(c => c.Command(sql).ExecuteNonQuery(), CancellationToken.None);
}
