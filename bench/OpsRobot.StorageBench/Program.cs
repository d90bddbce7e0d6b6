using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Rooms;
using OpsRobot.Storage.Sqlite;

// The storage under the shell-chat benchmark, measured on its own. Each `!echo` line of bench/run stores three rows:
// the line and the answer in `messages` (SqliteRoomStore) and the command's record in the hash-chained `audit`
// (SqliteAuditStore). Two phases, each on a fresh database made by OpsRobot's own migrations:
//
//   1. SQLite alone: the same INSERT statements, prepared once and bound by position, 128 lines (384 rows) per
//      transaction, in one writer unit each: what SQLite itself costs for the rows, with nothing else around it
//      (no hashing, no tasks). A floor for this storage design.
//   2. The stores: SqliteRoomStore.AppendAsync twice and AuditLog.WriteAsync once per line, 128 lines in flight as
//      the piped shell keeps them: the storage as the chat path uses it, group commits included.
//   3. Reads beside the writer: for READ_SECONDS (5), the writer stores chat lines as fast as it can (SQLite
//      checkpoints its write-ahead log as it grows) while two readers read a room's last 20 lines through the
//      connection pool, as the history API does. SQLite sometimes makes a reader retry its snapshot of the log, and
//      sleeps between retries: the slowest read shows whether such a sleep costs milliseconds or a second.
//
// Prints, tab-separated: phase, lines, wall ms, process CPU ms, lines per second (wall); then for phase 3:
// phase, reads, lines written, median read µs, p99 read µs, slowest read ms, reads slower than 500 ms.
//
//   dotnet run -c Release --project bench/OpsRobot.StorageBench [LINES]
var lines = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
const int Window = 128;

await Phase("sqlite alone, 3 rows per line", async (database, roomId, userId) =>
{
    var at = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
    var hash = new string('a', 64);
    long auditId = 0;
    for (var start = 0; start < lines; start += Window)
    {
        var end = Math.Min(lines, start + Window);
        var first = start;
        await database.Writer.WriteAsync(context =>
        {
            for (var i = first; i < end; i++)
            {
                Message(context, roomId, "user", userId, "bench", $"!echo line {i}", at);
                context.Statement(
                    "INSERT INTO audit (id, at, kind, actor, door, place, subject, decision, rule, detail, prev_hash, hash) " +
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
                    .Bind(1, ++auditId).Bind(2, at).Bind(3, AuditKinds.Command).Bind(4, "bench").Bind(5, "shell")
                    .Bind(6, "shell:shell").Bind(7, $"!echo line {i}").Bind(8, "allow").Bind(9, "built-in echo")
                    .Bind(10, "{}").Bind(11, hash).Bind(12, hash).Execute();
                Message(context, roomId, "robot", null, "OpsRobot", $"line {i}", at);
            }

            return 0;
        }, CancellationToken.None);
    }
});

await Phase("stores through the writer, 128 lines in flight", async (database, roomId, userId) =>
{
    var rooms = new SqliteRoomStore(database);
    var audit = new AuditLog(new SqliteAuditStore(database), TimeProvider.System);
    var inFlight = new Queue<Task>();
    for (var i = 0; i < lines; i++)
    {
        var now = TimeProvider.System.GetUtcNow();
        var line = rooms.AppendAsync(new NewMessage(roomId, AuthorKind.User, userId, "bench", $"!echo line {i}", now), CancellationToken.None);
        var record = audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Command,
            Actor = "bench",
            Door = "shell",
            Place = "shell:shell",
            Subject = $"!echo line {i}",
            Decision = "allow",
            Rule = "built-in echo",
        }, CancellationToken.None);
        var answer = rooms.AppendAsync(new NewMessage(roomId, AuthorKind.Robot, null, "OpsRobot", $"line {i}", now), CancellationToken.None);
        inFlight.Enqueue(Task.WhenAll(line, record, answer));
        if (inFlight.Count > Window)
        {
            await inFlight.Dequeue();
        }
    }

    await Task.WhenAll(inFlight);
});

await ReadsBesideTheWriter(TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("READ_SECONDS") ?? "5", CultureInfo.InvariantCulture)));

static Task ReadsBesideTheWriter(TimeSpan duration) => InFreshDatabaseAsync(async (database, roomId, userId) =>
{
    var rooms = new SqliteRoomStore(database);

    using var stop = new CancellationTokenSource(duration);
    long written = 0;
    var writer = Task.Run(async () =>
    {
        var inFlight = new Queue<Task>();
        while (!stop.IsCancellationRequested)
        {
            inFlight.Enqueue(rooms.AppendAsync(new NewMessage(roomId, AuthorKind.User, userId, "bench", $"!echo line {written++}", TimeProvider.System.GetUtcNow()), CancellationToken.None));
            if (inFlight.Count > Window)
            {
                await inFlight.Dequeue();
            }
        }

        await Task.WhenAll(inFlight);
    });

    // Readers on their own threads, as API requests would be on theirs: a reader asleep in SQLite holds its thread.
    var times = new List<double>[2];
    var readers = Enumerable.Range(0, times.Length).Select(r => new Thread(() =>
    {
        var mine = times[r] = [];
        while (!stop.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            rooms.ReadAsync(roomId, new MessagePage(null, null, 20), CancellationToken.None).GetAwaiter().GetResult();
            mine.Add(clock.Elapsed.TotalMicroseconds);
        }
    })).ToList();
    readers.ForEach(t => t.Start());
    readers.ForEach(t => t.Join());
    await writer;

    var all = times.SelectMany(t => t).Order().ToList();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"reads beside the writer\t{all.Count}\t{written}\t{all[all.Count / 2]:0}\t{all[(int)(all.Count * 0.99)]:0}\t{all[^1] / 1000:0}\t{all.Count(t => t > 500_000)}"));
});

static void Message(SqliteWriteContext context, long roomId, string kind, long? userId, string author, string text, long at)
{
    // SqliteRoomStore.AppendAsync's statement (which reads the room's name once, not per line).
    context.Statement(
        """
        INSERT INTO messages (room_id, author_kind, user_id, author_name, text, created_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        """)
        .Bind(1, roomId).Bind(2, kind).Bind(3, userId).Bind(4, author).Bind(5, text).Bind(6, at)
        .ExecuteInsert();
}

Task Phase(string name, Func<SqliteDatabase, long, long, Task> run) => InFreshDatabaseAsync(async (database, roomId, userId) =>
{

    var process = Process.GetCurrentProcess();
    var cpu0 = process.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    await run(database, roomId, userId);
    clock.Stop();
    process.Refresh();
    var cpu = process.TotalProcessorTime - cpu0;

    var stored = await ScalarAsync(database, "SELECT count(*) FROM messages");
    if (stored != 2L * lines)
    {
        throw new InvalidOperationException($"{name}: expected {2L * lines} messages stored, found {stored}.");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}\t{lines}\t{clock.Elapsed.TotalMilliseconds:0}\t{cpu.TotalMilliseconds:0}\t{lines / clock.Elapsed.TotalSeconds:0}"));
});

// A new database made by OpsRobot's own migrations, with a user and a room, deleted after.
static async Task InFreshDatabaseAsync(Func<SqliteDatabase, long, long, Task> body)
{
    var dir = Directory.CreateTempSubdirectory("opsrobot-storagebench-");
    try
    {
        await using var database = new SqliteDatabase(Options.Create(new SqliteOptions { Path = Path.Combine(dir.FullName, "opsrobot.db") }),
            NullLogger<SqliteDatabase>.Instance);
        await database.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var user = await new SqliteUserStore(database, TimeProvider.System).CreateAsync("bench", "bench", false, null, CancellationToken.None);
        var room = await new SqliteRoomStore(database).CreateAsync("shell", "bench", user.Id, TimeProvider.System.GetUtcNow(), CancellationToken.None);
        await body(database, room.Id, user.Id);
    }
    finally
    {
        dir.Delete(recursive: true);
    }
}

static async Task<long> ScalarAsync(SqliteDatabase database, string sql)
{
    await using var connection = await database.OpenAsync(CancellationToken.None);
    await using var command = connection.CreateCommand();
    command.CommandText = sql;
    return (long)(await command.ExecuteScalarAsync())!;
}
