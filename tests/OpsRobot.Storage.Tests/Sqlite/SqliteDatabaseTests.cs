using Microsoft.Data.Sqlite;
using OpsRobot.Core.Storage;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

public sealed class SqliteDatabaseTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-sqlite");
    private readonly TestTimeProvider _time = new();
    private readonly List<SqliteDatabase> _opened = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var database in _opened.Where(d => File.Exists(d.FilePath)))
        {
            await SqliteTestDatabase.ClosePoolAsync(database);
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task MigrateAsync_FreshFile_AppliesEveryMigrationOnceThenNone()
    {
        var database = Open("opsrobot.db");

        var first = await database.MigrateAsync(_time, CancellationToken.None);
        var second = await database.MigrateAsync(_time, CancellationToken.None);

        first.ShouldBeGreaterThanOrEqualTo(1);
        (await SqliteTestDatabase.ScalarAsync(database, "SELECT COUNT(*) FROM schema_migrations")).ShouldBe((long)first);
        second.ShouldBe(0);
        (await SqliteTestDatabase.ScalarAsync(database, "SELECT COUNT(*) FROM schema_migrations")).ShouldBe((long)first);
    }

    [Fact]
    public async Task MigrateAsync_FreshFile_CreatesTheTablesAndRecordsWhen()
    {
        var database = Open("opsrobot.db");

        await database.MigrateAsync(_time, CancellationToken.None);

        foreach (var table in new[] { "users", "rooms", "room_members", "messages" })
        {
            (await SqliteTestDatabase.ScalarAsync(database, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'")).ShouldBe(1L, table);
        }

        (await SqliteTestDatabase.ScalarAsync(database, "SELECT applied_at FROM schema_migrations WHERE version = 1"))
            .ShouldBe(_time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("UPDATE audit SET subject = 'nothing happened' WHERE id = 1")]
    [InlineData("DELETE FROM audit WHERE id = 1")]
    public async Task AuditRecords_CannotBeChangedOrRemovedThroughSql(string sql)
    {
        var database = Open("opsrobot.db");
        await database.MigrateAsync(_time, CancellationToken.None);
        var log = new OpsRobot.Core.Audit.AuditLog(new SqliteAuditStore(database), _time);
        await log.WriteAsync(new OpsRobot.Core.Audit.AuditEntry { Kind = "command", Actor = "bob", Door = "chat", Subject = "restart booking" });

        var refused = await Should.ThrowAsync<Microsoft.Data.Sqlite.SqliteException>(() => SqliteTestDatabase.ScalarAsync(database, sql));

        refused.Message.ShouldContain("append-only");
        (await SqliteTestDatabase.ScalarAsync(database, "SELECT subject FROM audit WHERE id = 1")).ShouldBe("restart booking");
    }

    [Fact]
    public async Task MigrateAsync_NewInstanceOnMigratedFile_AppliesNothing()
    {
        await Open("opsrobot.db").MigrateAsync(_time, CancellationToken.None);

        var applied = await Open(LinkTo("opsrobot.db")).MigrateAsync(_time, CancellationToken.None);

        applied.ShouldBe(0);
    }

    [Fact]
    public async Task MigrateAsync_TwoInstancesAtOnce_EachMigrationAppliedExactlyOnce()
    {
        // Two processes starting together on a new file (the server and a shell chat): neither may fail, and the
        // migrations run once between them.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var name = $"race{attempt}.db";
            var a = Open(name);
            var b = Open(LinkTo(name));

            var applied = await Task.WhenAll(
                Task.Run(() => a.MigrateAsync(_time, CancellationToken.None)),
                Task.Run(() => b.MigrateAsync(_time, CancellationToken.None)));

            var recorded = (long)(await SqliteTestDatabase.ScalarAsync(a, "SELECT COUNT(*) FROM schema_migrations"))!;
            ((long)applied.Sum()).ShouldBe(recorded, $"attempt {attempt}");
        }
    }

    [Fact]
    public async Task MigrateAsync_Done_JournalModeIsWal()
    {
        var database = Open("opsrobot.db");

        await database.MigrateAsync(_time, CancellationToken.None);

        (await SqliteTestDatabase.ScalarAsync(database, "PRAGMA journal_mode")).ShouldBe("wal");
        (await SqliteTestDatabase.ScalarAsync(Open(LinkTo("opsrobot.db")), "PRAGMA journal_mode")).ShouldBe("wal");
    }

    [Theory]
    [InlineData("default durability", SqliteSynchronous.Normal, 1L)]
    [InlineData("full durability", SqliteSynchronous.Full, 2L)]
    public async Task OpenAsync_AnyConnection_HasForeignKeysAndSynchronous(string row, SqliteSynchronous synchronous, long expected)
    {
        var database = Open("opsrobot.db", o => o.Synchronous = synchronous);
        await database.MigrateAsync(_time, CancellationToken.None);

        (await SqliteTestDatabase.ScalarAsync(database, "PRAGMA foreign_keys")).ShouldBe(1L, row);
        (await SqliteTestDatabase.ScalarAsync(database, "PRAGMA synchronous")).ShouldBe(expected, row);
    }

    // The bundled SQLite sleeps whole seconds in its own busy wait (built without HAVE_USLEEP): a write that met
    // another connection's lock for 30 ms waited a full second. Ours retries within milliseconds.
    [Fact]
    public async Task Write_WhileAnotherProcessHoldsTheLockBriefly_GoesThroughWithinMilliseconds()
    {
        var database = Open("opsrobot.db");
        await database.MigrateAsync(_time, CancellationToken.None);
        var other = Open(LinkTo("opsrobot.db"));
        await SqliteTestDatabase.ScalarAsync(database, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'warm-up', 0)");
        await (await other.OpenAsync(CancellationToken.None)).DisposeAsync();

        var slowest = TimeSpan.Zero;
        var times = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            await using var holder = await other.OpenAsync(CancellationToken.None);
            var held = holder.BeginTransaction(System.Data.IsolationLevel.Serializable); // BEGIN IMMEDIATE: the write lock
            // Its own thread: the waiting write blocks this one, and the thread pool may have no other to spare.
            var release = new Thread(() =>
            {
                Thread.Sleep(30);
                held.Commit();
            });
            release.Start();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await SqliteTestDatabase.ScalarAsync(database, $"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({1000 + i}, 'probe', 0)");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            times.Add(clock.ElapsedMilliseconds);
            release.Join();
            held.Dispose();
        }

        slowest.ShouldBeLessThan(TimeSpan.FromMilliseconds(500), string.Join(", ", times));
    }

    // SQLite's own call, without Microsoft.Data.Sqlite's retries around it: only the busy handler waits. SQLite's
    // handler on this build slept a whole second before giving up; ours gives up at the timeout, by the clock.
    [Fact]
    public async Task BusyWait_ALockHeldPastTheBusyTimeout_GivesUpAtTheTimeout()
    {
        var database = Open("opsrobot.db", o => o.BusyTimeout = TimeSpan.FromMilliseconds(200));
        await database.MigrateAsync(_time, CancellationToken.None);
        var other = Open(LinkTo("opsrobot.db"));
        await using var holder = await other.OpenAsync(CancellationToken.None);
        using var held = holder.BeginTransaction(System.Data.IsolationLevel.Serializable);
        await using var waiter = await database.OpenAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rc = SQLitePCL.raw.sqlite3_exec(waiter.Handle, "BEGIN IMMEDIATE");
        clock.Stop();

        rc.ShouldBe(SQLitePCL.raw.SQLITE_BUSY);
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(190));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMilliseconds(700));
    }

    // SQLite's own sleeps (a reader retrying its snapshot of the write-ahead log, sqlite3_sleep) go through its file
    // layer's xSleep, which on this build sleeps whole seconds: sqlite3_sleep(5) took a second and said 1000.
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(20)]
    public async Task SqliteSleep_OnceADatabaseExists_SleepsTheMillisecondsAsked(int milliseconds)
    {
        await Open("opsrobot.db").MigrateAsync(_time, CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var slept = SqliteNative.sqlite3_sleep(milliseconds);
        clock.Stop();

        slept.ShouldBe(milliseconds);
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(milliseconds - 1));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMilliseconds(milliseconds + 400));
    }

    [Fact]
    public async Task OpenAsync_AnyConnection_UsesTheFileLayerWithMillisecondSleeps()
    {
        var database = Open("opsrobot.db");
        await database.MigrateAsync(_time, CancellationToken.None);
        await using var connection = await database.OpenAsync(CancellationToken.None);

        // SQLITE_FCNTL_VFS_POINTER: the connection's sqlite3_vfs, whose zName follows three ints, padding and pNext.
        var slot = System.Runtime.InteropServices.Marshal.AllocHGlobal(IntPtr.Size);
        try
        {
            SqliteNative.sqlite3_file_control(connection.Handle!.DangerousGetHandle(), "main", 27, slot).ShouldBe(SQLitePCL.raw.SQLITE_OK);
            var vfs = System.Runtime.InteropServices.Marshal.ReadIntPtr(slot);
            var name = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(System.Runtime.InteropServices.Marshal.ReadIntPtr(vfs, 24));
            name.ShouldBe("opsrobot-unix");
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(slot);
        }

        (await SqliteTestDatabase.ScalarAsync(database, "SELECT count(*) FROM schema_migrations")).ShouldBeOfType<long>().ShouldBeGreaterThan(0L);
    }

    [Fact]
    public async Task Write_WhileAnotherProcessHoldsTheLockPastTheBusyTimeout_IsRefusedAsUnavailable()
    {
        var database = Open("opsrobot.db", o => o.BusyTimeout = TimeSpan.FromMilliseconds(200));
        await database.MigrateAsync(_time, CancellationToken.None);
        var other = Open(LinkTo("opsrobot.db"));
        await using var holder = await other.OpenAsync(CancellationToken.None);
        using var held = holder.BeginTransaction(System.Data.IsolationLevel.Serializable);

        var ex = await Should.ThrowAsync<SqliteException>(() => SqliteTestDatabase.ScalarAsync(database, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (2000, 'probe', 0)"));

        SqliteDatabase.Translate(ex).ShouldBeOfType<StoreUnavailableException>();
    }

    [Fact]
    public async Task MigrateAsync_FileFromANewerOpsRobot_RefusedAsUnavailable()
    {
        var database = Open("opsrobot.db");
        await database.MigrateAsync(_time, CancellationToken.None);
        await SqliteTestDatabase.ScalarAsync(database, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)");

        var ex = await Should.ThrowAsync<StoreUnavailableException>(() => Open(LinkTo("opsrobot.db")).MigrateAsync(_time, CancellationToken.None));

        ex.Message.ShouldContain("schema version 9999");
        ex.Message.ShouldContain("newer than this OpsRobot knows");
    }

    [Theory]
    [InlineData("constraint: a name already taken", 19, typeof(StoreConflictException))]
    [InlineData("busy: another process holds the lock", 5, typeof(StoreUnavailableException))]
    [InlineData("locked", 6, typeof(StoreUnavailableException))]
    [InlineData("disk full", 13, typeof(StoreUnavailableException))]
    [InlineData("read-only", 8, typeof(StoreUnavailableException))]
    [InlineData("I/O error", 10, typeof(StoreUnavailableException))]
    [InlineData("cannot open", 14, typeof(StoreUnavailableException))]
    [InlineData("anything else stays as it is", 1, typeof(SqliteException))]
    public void Translate_SqliteErrorCode_MapsToTheStoresException(string row, int code, Type expected)
    {
        var original = new SqliteException("sqlite said no", code);

        var translated = SqliteDatabase.Translate(original);

        translated.GetType().ShouldBe(expected, row);
        if (translated != original)
        {
            translated.InnerException.ShouldBeSameAs(original, row);
        }
    }

    [Fact]
    public async Task OpenAsync_FolderDoesNotExist_StoreUnavailable()
    {
        var database = Open(Path.Combine("missing", "folder", "opsrobot.db"));

        await Should.ThrowAsync<StoreUnavailableException>(() => database.OpenAsync(CancellationToken.None));
    }

    private SqliteDatabase Open(string relativePath, Action<SqliteOptions>? configure = null)
    {
        var database = SqliteTestDatabase.Create(_dir.Combine(relativePath), configure);
        _opened.Add(database);
        return database;
    }

    /// <summary>
    /// A second path to the same file through a folder link: a database opened on it has its own connection pool,
    /// as a second process would.
    /// </summary>
    private string LinkTo(string fileName)
    {
        var link = $"link-{Guid.NewGuid():N}";
        Directory.CreateSymbolicLink(_dir.Combine(link), _dir.Path);
        return Path.Combine(link, fileName);
    }
}

// SQLite calls SQLitePCLRaw 2.0.6 does not wrap, from the bundled library the stores use.
internal static partial class SqliteNative
{
    [System.Runtime.InteropServices.LibraryImport("e_sqlite3")]
    [System.Runtime.InteropServices.UnmanagedCallConv(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    internal static partial int sqlite3_sleep(int milliseconds);

    [System.Runtime.InteropServices.LibraryImport("e_sqlite3", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    [System.Runtime.InteropServices.UnmanagedCallConv(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    internal static partial int sqlite3_file_control(nint db, string name, int op, nint argument);
}
