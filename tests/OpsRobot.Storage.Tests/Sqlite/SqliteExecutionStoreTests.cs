using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>
/// The execution store under a burst: its writes go through the group-committing writer, so executions started and
/// finished together share commits, while each write is still committed before its caller hears of it and each
/// transition is still decided by its own condition.
/// </summary>
public sealed class SqliteExecutionStoreTests : IAsyncLifetime
{
    private const int Burst = 200;
    private readonly TempDirectory _dir = new("opsrobot-exec-store");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private SqliteExecutionStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(Path.Combine(_dir.Path, "opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        _store = new SqliteExecutionStore(_database);
    }

    public async Task DisposeAsync()
    {
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    [Fact]
    public async Task BurstOfExecutions_CreatedStartedAndFinishedTogether_ShareCommits()
    {
        await using var wal = await WalCounter.OpenAsync(_database, _store, NewExecution());
        var before = wal.Commits();

        // As a burst of requests does: every execution created at once, started at once, its output stored, finished.
        var created = await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => _store.CreateAsync(NewExecution(), CancellationToken.None)));
        var started = await Task.WhenAll(created.Select(e => _store.TransitionAsync(
            e.Id, [ExecutionStatus.Requested], ExecutionStatus.Running, new ExecutionUpdate { StartedAt = _time.GetUtcNow() }, CancellationToken.None)));
        await Task.WhenAll(created.Select(e => _store.AppendOutputAsync(
            [new OutputChunk(e.Id, 1, OutputKind.Stdout, $"hello from {e.Id}\n", _time.GetUtcNow())], CancellationToken.None)));
        var finished = await Task.WhenAll(created.Select(e => _store.TransitionAndReadAsync(
            e.Id, [ExecutionStatus.Running], ExecutionStatus.Succeeded, new ExecutionUpdate { EndedAt = _time.GetUtcNow(), ExitCode = 0 }, CancellationToken.None)));
        var commits = wal.Commits() - before;

        started.ShouldAllBe(moved => moved);
        finished.ShouldAllBe(record => record != null && record.Status == ExecutionStatus.Succeeded && record.ExitCode == 0);
        created.Select(e => e.Id).Distinct().Count().ShouldBe(Burst);
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM executions WHERE status = 'succeeded'")).ShouldBe((long)Burst);
        (await SqliteTestDatabase.ScalarAsync(_database, "SELECT COUNT(*) FROM execution_output")).ShouldBe((long)Burst);

        // 4 × 200 writes; one transaction each (the store before the writer) would be 800 commits.
        commits.ShouldBeGreaterThan(0);
        commits.ShouldBeLessThan(4 * Burst / 8, $"{4 * Burst} writes took {commits} commits: the execution store's writes did not share commits");
    }

    [Fact]
    public async Task RacingTransitions_FromTheSameStatus_ExactlyOneWinsEach_AndItsRecordIsReturned()
    {
        var created = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _store.CreateAsync(NewExecution(ExecutionStatus.Running), CancellationToken.None)));

        // For each execution a finish and a cancel race, as a process ending races an operator's cancel.
        var races = created.Select(e => (
            Id: e.Id,
            Finish: _store.TransitionAndReadAsync(e.Id, [ExecutionStatus.Running], ExecutionStatus.Succeeded, new ExecutionUpdate { ExitCode = 0 }, CancellationToken.None),
            Cancel: _store.TransitionAndReadAsync(e.Id, [ExecutionStatus.Running, ExecutionStatus.Canceling], ExecutionStatus.Canceled, new ExecutionUpdate { Error = "Canceled by ann." }, CancellationToken.None))).ToList();
        await Task.WhenAll(races.SelectMany(r => new[] { r.Finish, r.Cancel }));

        foreach (var (id, finish, cancel) in races)
        {
            var winner = (await finish) ?? (await cancel);
            ((await finish) is null).ShouldNotBe((await cancel) is null, $"execution {id}: exactly one transition moves it");
            var stored = await _store.GetAsync(id, CancellationToken.None);
            stored!.Status.ShouldBe(winner!.Status);
            stored.ExitCode.ShouldBe(winner.ExitCode);
            stored.Error.ShouldBe(winner.Error);
        }
    }

    [Fact]
    public async Task TransitionAndRead_NotInTheExpectedStatus_ReturnsNull_AndChangesNothing()
    {
        var e = await _store.CreateAsync(NewExecution(), CancellationToken.None);

        var moved = await _store.TransitionAndReadAsync(e.Id, [ExecutionStatus.Running], ExecutionStatus.Succeeded, new ExecutionUpdate { ExitCode = 3 }, CancellationToken.None);
        var missing = await _store.TransitionAndReadAsync(e.Id + 1000, [ExecutionStatus.Requested], ExecutionStatus.Running, new ExecutionUpdate(), CancellationToken.None);
        var nothingAllowed = await _store.TransitionAsync(e.Id, [], ExecutionStatus.Running, new ExecutionUpdate(), CancellationToken.None);

        moved.ShouldBeNull();
        missing.ShouldBeNull();
        nothingAllowed.ShouldBeFalse();
        var read = await _store.GetAsync(e.Id, CancellationToken.None);
        read!.Status.ShouldBe(ExecutionStatus.Requested);
        read.ExitCode.ShouldBeNull();
    }

    [Fact]
    public async Task TransitionAndRead_ReturnsEveryFieldAsStored()
    {
        var e = await _store.CreateAsync(NewExecution() with { ParentId = null, Attempt = 2 }, CancellationToken.None);
        var at = _time.GetUtcNow().AddSeconds(3);

        var moved = await _store.TransitionAndReadAsync(e.Id, [ExecutionStatus.Requested], ExecutionStatus.Failed,
            new ExecutionUpdate { StartedAt = at, EndedAt = at.AddSeconds(1), ExitCode = 2, Error = "Exited with code 2.", Result = new JsonObject { ["stderr"] = "boom" } }, CancellationToken.None);

        var read = await _store.GetAsync(e.Id, CancellationToken.None);
        moved.ShouldNotBeNull();
        moved.ShouldBe(read! with { Parameters = moved.Parameters, Result = moved.Result });
        moved.Parameters.ToJsonString().ShouldBe(read.Parameters.ToJsonString());
        moved.Result!.ToJsonString().ShouldBe(read.Result!.ToJsonString());
        moved.Status.ShouldBe(ExecutionStatus.Failed);
        moved.StartedAt.ShouldBe(at);
        moved.Result!["stderr"]!.GetValue<string>().ShouldBe("boom");
        moved.Attempt.ShouldBe(2);
        moved.Requester.UserName.ShouldBe("alice");
    }

    [Fact]
    public async Task CreatedExecution_IsCommittedBeforeCreateReturns()
    {
        var e = await _store.CreateAsync(NewExecution(), CancellationToken.None);

        // Another process's connection (no pool shared with the store) sees it at once.
        await using var other = new SqliteConnection($"Data Source={_database.FilePath};Pooling=False");
        await other.OpenAsync();
        await using var command = other.CreateCommand();
        command.CommandText = $"SELECT status FROM executions WHERE id = {e.Id}";
        (await command.ExecuteScalarAsync()).ShouldBe("requested");
    }

    private ExecutionRecord NewExecution(ExecutionStatus status = ExecutionStatus.Requested) => new()
    {
        Id = 0,
        ActionRef = "core.local",
        RunnerType = "shell",
        Parameters = new JsonObject { ["cmd"] = "sleep 5" },
        Status = status,
        Requester = new ExecutionRequester { Door = ExecutionDoor.Api, UserName = "alice", Address = "127.0.0.1" },
        CreatedAt = _time.GetUtcNow(),
        Owner = "host:1:2",
    };

    /// <summary>
    /// Counts the transactions committed to the database by reading its write-ahead log: every commit ends with a
    /// frame whose header holds the database's size in pages, other frames hold zero there. A read transaction kept
    /// open on a WAL snapshot stops SQLite from checkpointing past it and from starting the log over, so every commit
    /// made meanwhile stays in the file to be counted.
    /// </summary>
    private sealed class WalCounter : IAsyncDisposable
    {
        private readonly SqliteConnection _reader;
        private readonly string _path;

        private WalCounter(SqliteConnection reader, string path)
        {
            _reader = reader;
            _path = path;
        }

        public static async Task<WalCounter> OpenAsync(SqliteDatabase database, SqliteExecutionStore store, ExecutionRecord first)
        {
            // A first commit, so the reader's snapshot is in the log (a snapshot of a fully checkpointed log would not hold it).
            await store.CreateAsync(first, CancellationToken.None);
            var reader = new SqliteConnection($"Data Source={database.FilePath};Pooling=False");
            await reader.OpenAsync();
            await using (var begin = reader.CreateCommand())
            {
                begin.CommandText = "BEGIN; SELECT COUNT(*) FROM executions;";
                await begin.ExecuteScalarAsync();
            }

            return new WalCounter(reader, database.FilePath + "-wal");
        }

        public int Commits()
        {
            var wal = File.ReadAllBytes(_path);
            BinaryPrimitives.ReadUInt32BigEndian(wal.AsSpan(0, 4)).ShouldBeOneOf(0x377f0682u, 0x377f0683u);
            var pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(wal.AsSpan(8, 4));
            var salt = wal.AsSpan(16, 8).ToArray();
            var commits = 0;
            for (var frame = 32; frame + 24 + pageSize <= wal.Length; frame += 24 + pageSize)
            {
                if (!wal.AsSpan(frame + 8, 8).SequenceEqual(salt))
                {
                    break; // Left over from an earlier generation of the log.
                }

                if (BinaryPrimitives.ReadUInt32BigEndian(wal.AsSpan(frame + 4, 4)) != 0)
                {
                    commits++;
                }
            }

            return commits;
        }

        public async ValueTask DisposeAsync()
        {
            await using (var rollback = _reader.CreateCommand())
            {
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync();
            }

            await _reader.DisposeAsync();
        }
    }
}
