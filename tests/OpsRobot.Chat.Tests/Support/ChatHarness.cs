using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Shell;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Status;
using OpsRobot.Core.Users;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Support;

/// <summary>
/// The built-in chat wired as the host wires it: the real robot and core commands, a real SQLite file, the room
/// feed and the shell chat. Two harnesses on the same file are two runs of OpsRobot on the same data.
/// </summary>
internal sealed class ChatHarness : IAsyncDisposable
{
    private ChatHarness(SqliteDatabase database, TestTimeProvider time, RobotOptions options)
    {
        Database = database;
        Time = time;
        Users = new SqliteUserStore(database, time);
        Rooms = new SqliteRoomStore(database);
        Feed = new RoomFeed();
        var info = new RobotInfo("1.2.3-test", time.GetUtcNow());
        IRobotCommand[] commands =
        [
            new HelpCommand(), new PingCommand(), new EchoCommand(), new WhoAmICommand(),
            new VersionCommand(info), new StatusCommand(info, [], time),
        ];
        Robot = new Robot(new CommandRegistry(commands), Options.Create(options), NullLogger<Robot>.Instance);
        Chat = new BuiltInChat(Rooms, Robot, Feed, time, NullLogger<BuiltInChat>.Instance);
        Shell = new ShellChat(Chat, Feed, Users, Rooms, time);
    }

    public SqliteDatabase Database { get; }

    public TestTimeProvider Time { get; }

    public IUserStore Users { get; }

    public IRoomStore Rooms { get; }

    public RoomFeed Feed { get; }

    public Robot Robot { get; }

    public BuiltInChat Chat { get; }

    public ShellChat Shell { get; }

    public static async Task<ChatHarness> StartAsync(string databasePath, RobotOptions? options = null)
    {
        var time = new TestTimeProvider();
        var database = new SqliteDatabase(Options.Create(new SqliteOptions { Path = databasePath }), NullLogger<SqliteDatabase>.Instance);
        await database.MigrateAsync(time, CancellationToken.None);
        return new ChatHarness(database, time, options ?? new RobotOptions());
    }

    public Task<UserRecord> CreateUserAsync(string name) => Users.CreateAsync(name, name, isAdmin: false, passwordHash: null, CancellationToken.None);

    public Task<IReadOnlyList<StoredMessage>> HistoryAsync(RoomRecord room) =>
        Rooms.ReadAsync(room.Id, new MessagePage(null, null, 500), CancellationToken.None);

    /// <summary>Runs one shell session over the given input and returns its exit code and what it wrote.</summary>
    public async Task<(int ExitCode, string Output, string Error)> RunShellAsync(ShellSession session, string input)
    {
        using var reader = new StringReader(input);
        await using var output = new StringWriter();
        await using var error = new StringWriter();
        var code = await Shell.RunAsync(session, reader, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Database.FilePath))
        {
            await using var connection = await Database.OpenAsync(CancellationToken.None);
            SqliteConnection.ClearPool(connection);
        }

        await Database.DisposeAsync();
    }

    /// <summary>Everything waiting in a subscription's channel right now.</summary>
    public static List<StoredMessage> Drain(RoomFeed.Subscription subscription)
    {
        var list = new List<StoredMessage>();
        while (subscription.Messages.TryRead(out var message))
        {
            list.Add(message);
        }

        return list;
    }
}
