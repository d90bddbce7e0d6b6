using OpsRobot.Core.Audit;
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
            c.Statement("INSERT INTO t (v) VALUES (?1) RETURNING n").Bind(1, $"w{i}").ExecuteInt64();
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
        var before = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (n, v) VALUES (1, 'a')").ExecuteNonQuery(), CancellationToken.None);
        var failing = _database.Writer.WriteAsync(c =>
        {
            c.Statement("INSERT INTO t (n, v) VALUES (2, 'half done')").ExecuteNonQuery();
            return c.Statement("INSERT INTO t (n, v) VALUES (1, 'duplicate')").ExecuteNonQuery();
        }, CancellationToken.None);
        var after = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (n, v) VALUES (3, 'c')").ExecuteNonQuery(), CancellationToken.None);

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

        // Caught as any exception so that a wrong one is reported whole (its message and where it came from).
        var ex = await Should.ThrowAsync<Exception>(() =>
            rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, "ann", "second", _time.GetUtcNow()), CancellationToken.None));
        ex.ShouldBeOfType<StoreUnavailableException>(ex.ToString());
        ex.Message.ShouldContain("is gone");
    }

    [Fact]
    public async Task CanceledBeforeItRuns_IsNotWritten()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() =>
            _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES ('x')").ExecuteNonQuery(), cts.Token));

        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM t")).ShouldBe(0L);
    }

    [Fact]
    public async Task OneUnitFails_TheUnitsBeforeItAreRunAgain_AndAnswerWithWhatWasCommitted()
    {
        // The batch first runs straight; the failure rolls it back and it runs again unit by unit. Units before the
        // failing one therefore run twice: each must answer with what is finally stored, not with its first try.
        var first = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES (?1) RETURNING n").Bind(1, "first").ExecuteInt64(), CancellationToken.None);
        var failing = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (n, v) VALUES (?1, ?2)").Bind(1, 1).Bind(2, "clash").ExecuteInt64(), CancellationToken.None);
        var second = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES (?1) RETURNING n").Bind(1, "second").ExecuteInt64(), CancellationToken.None);

        var firstId = await first;
        await Should.ThrowAsync<StoreConflictException>(() => failing);
        var secondId = await second;

        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT v FROM t WHERE n = {firstId}")).ShouldBe("first");
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT v FROM t WHERE n = {secondId}")).ShouldBe("second");
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM t")).ShouldBe(2L);
    }

    [Fact]
    public async Task ExecuteInsert_GivesEachNewRowsId_AndNullWhenNothingWasInserted_NeverAnEarlierRowsId()
    {
        await WriteAsync("CREATE TABLE u (n INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE)");
        var ids = await Task.WhenAll(Enumerable.Range(1, 300).Select(i => _database.Writer.WriteAsync(
            c => c.Statement("INSERT INTO u (k) VALUES (?1) ON CONFLICT (k) DO NOTHING").Bind(1, $"k{i}").ExecuteInsert(), CancellationToken.None)));

        // The row inserted just before (same statement, same transaction) must not be taken for this one's.
        var repeated = await _database.Writer.WriteAsync(c =>
        {
            var fresh = c.Statement("INSERT INTO u (k) VALUES (?1) ON CONFLICT (k) DO NOTHING").Bind(1, "fresh").ExecuteInsert();
            var again = c.Statement("INSERT INTO u (k) VALUES (?1) ON CONFLICT (k) DO NOTHING").Bind(1, "k7").ExecuteInsert();
            return (fresh, again);
        }, CancellationToken.None);

        ids.ShouldAllBe(id => id != null);
        ids.Distinct().Count().ShouldBe(300);
        for (var i = 0; i < ids.Length; i++)
        {
            (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT k FROM u WHERE n = {ids[i]}")).ShouldBe($"k{i + 1}");
        }

        repeated.fresh.ShouldNotBeNull();
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT k FROM u WHERE n = {repeated.fresh}")).ShouldBe("fresh");
        repeated.again.ShouldBeNull();
    }

    [Fact]
    public async Task ExecuteInsert_InABatchRunAgainAfterAFailure_AnswersWithTheIdThatWasCommitted()
    {
        // Hold the writer so the next four units share one batch. They are queued only once the writer is inside the
        // holding unit: queued earlier, the first of them could join its batch and commit apart from the others.
        using var gate = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var held = _database.Writer.WriteAsync(_ =>
        {
            entered.Set();
            return gate.Wait(TimeSpan.FromSeconds(30));
        }, CancellationToken.None);
        entered.Wait(TimeSpan.FromSeconds(30)).ShouldBeTrue();

        // Inserts an extra row on its first run only, so the units after it get other ids when the batch runs again.
        var runs = 0;
        var shifting = _database.Writer.WriteAsync(c => Interlocked.Increment(ref runs) == 1
            ? c.Statement("INSERT INTO t (v) VALUES ('first run only')").ExecuteInsert()
            : null, CancellationToken.None);
        var first = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES (?1)").Bind(1, "first").ExecuteInsert(), CancellationToken.None);
        var failing = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (n, v) VALUES (?1, ?2)").Bind(1, 1).Bind(2, "clash").ExecuteInsert(), CancellationToken.None);
        var second = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES (?1)").Bind(1, "second").ExecuteInsert(), CancellationToken.None);
        gate.Set();
        (await held).ShouldBeTrue();

        await shifting;
        var firstId = await first;
        await Should.ThrowAsync<StoreConflictException>(() => failing);
        var secondId = await second;

        runs.ShouldBe(2, "the batch ran straight, failed, and ran again unit by unit");
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT v FROM t WHERE n = {firstId}")).ShouldBe("first");
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT v FROM t WHERE n = {secondId}")).ShouldBe("second");
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM t")).ShouldBe(2L);
    }

    [Fact]
    public async Task Statement_BindsByPosition_TextNullAndEmptyKeptApart()
    {
        await WriteAsync("CREATE TABLE s (n INTEGER PRIMARY KEY, a TEXT NULL, b TEXT NULL, c INTEGER NULL)");
        var id = await _database.Writer.WriteAsync(
            c => c.Statement("INSERT INTO s (a, b, c) VALUES (?1, ?2, ?3) RETURNING n").Bind(1, "naïve ☃ 日本").Bind(2, string.Empty).Bind(3, (long?)null).ExecuteInt64(),
            CancellationToken.None);

        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT a FROM s WHERE n = {id}")).ShouldBe("naïve ☃ 日本");
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT b IS NOT NULL AND b = '' FROM s WHERE n = {id}")).ShouldBe(1L);
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT c IS NULL FROM s WHERE n = {id}")).ShouldBe(1L);
    }

    [Fact]
    public async Task Statement_LeftMidRun_IsResetAfterItsUnit_SoTheBatchStillCommits()
    {
        await WriteAsync("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");

        // Reads one row of three and stops: the statement is still running when the unit returns.
        var read = await _database.Writer.WriteAsync(c =>
        {
            var select = c.Statement("SELECT v FROM t ORDER BY n");
            return select.Step() ? select.ColumnText(0) : null;
        }, CancellationToken.None);
        var written = await _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES ('d') RETURNING n").ExecuteInt64(), CancellationToken.None);

        read.ShouldBe("a");
        (await SqliteTestDatabase.ScalarAsync(_database, $"SELECT v FROM t WHERE n = {written}")).ShouldBe("d");
    }

    [Fact]
    public async Task AuditChain_StaysWhole_WhenAUnitBetweenItsRecordsFails()
    {
        // The audit store carries the chain's last link from unit to unit within a transaction; a unit rolled back
        // in between must not leave a link that was never stored.
        var audit = new SqliteAuditStore(_database);
        var entry = new AuditEntry { Kind = "command", Actor = "ann", Door = "chat", Subject = "ping", Decision = "allow", Rule = "test" };
        var writes = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            writes.Add(audit.AppendAsync([(_time.GetUtcNow(), entry, "{}")], AuditChain.Hash, CancellationToken.None));
            if (i % 7 == 3)
            {
                writes.Add(_database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (n, v) VALUES (1, 'x'), (1, 'clash')").ExecuteNonQuery(), CancellationToken.None));
            }
        }

        foreach (var write in writes)
        {
            try
            {
                await write;
            }
            catch (StoreConflictException)
            {
            }
        }

        var records = await audit.ReadAsync(0, 1000, CancellationToken.None);
        records.Count.ShouldBe(50);
        AuditChain.FirstBroken(records, AuditChain.Genesis, 0).ShouldBeNull();
    }

    [Fact]
    public async Task Statement_AskedForAgainInALoop_IsReadyForNewBindings()
    {
        var ids = await _database.Writer.WriteAsync(c =>
        {
            var made = new List<long>();
            foreach (var v in new[] { "x", "y", "z" })
            {
                made.Add(c.Statement("INSERT INTO t (v) VALUES (?1) RETURNING n").Bind(1, v).ExecuteInt64());
            }

            return made;
        }, CancellationToken.None);

        ids.Count.ShouldBe(3);
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY n)")).ShouldBe("x,y,z");
    }

    [Fact]
    public async Task ABatchFailingAsAWhole_FailsTheWritesQueuedBehindIt_AndLaterWritesRunAsUsual()
    {
        using var running = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // Ends the transaction itself and fails, as SQLite does on a full disk: the whole batch is lost.
        var failing = _database.Writer.WriteAsync<int>(c =>
        {
            running.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            c.Statement("ROLLBACK").ExecuteNonQuery();
            throw new InvalidOperationException("the whole batch is lost");
        }, CancellationToken.None);
        running.Wait(TimeSpan.FromSeconds(30)).ShouldBeTrue();

        // Queued while it runs, so before its failure is known (an answer queued behind its line).
        var behind = _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES ('behind') RETURNING n").ExecuteInt64(), CancellationToken.None);
        release.Set();

        (await Should.ThrowAsync<InvalidOperationException>(() => failing)).Message.ShouldBe("the whole batch is lost");
        (await Should.ThrowAsync<InvalidOperationException>(() => behind)).Message.ShouldBe("the whole batch is lost");

        var later = await _database.Writer.WriteAsync(c => c.Statement("INSERT INTO t (v) VALUES ('later') RETURNING n").ExecuteInt64(), CancellationToken.None);
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT group_concat(v) FROM t")).ShouldBe("later");
        later.ShouldBeGreaterThan(0);
    }

    private Task<int> WriteAsync(string sql) => _database.Writer.WriteAsync(c => c.Statement(sql).ExecuteNonQuery(), CancellationToken.None);
}

/// <summary>What these tests read back from their <c>RETURNING n</c> statements (the stores use <see cref="WriteStatement.ExecuteInsert"/>).</summary>
internal static class ReturningStatements
{
    /// <summary>Runs a statement that returns one row and gives its first column.</summary>
    public static long ExecuteInt64(this WriteStatement statement) =>
        statement.Step() ? statement.ColumnInt64(0) : throw new InvalidOperationException("The statement returned no row.");
}
