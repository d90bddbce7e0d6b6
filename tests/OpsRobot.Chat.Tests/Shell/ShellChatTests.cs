using OpsRobot.Chat.Shell;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Rooms;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Shell;

public sealed class ShellChatTests : IAsyncLifetime
{
    private const string Greeting = "OpsRobot shell: you are alice in @alice (every line is a command, no prefix needed). Try help; Ctrl-D or exit to leave.";

    private readonly TempDirectory _dir = new("opsrobot-shell");
    private ChatHarness _h = null!;

    private string DatabasePath => _dir.Combine("opsrobot.db");

    public async Task InitializeAsync() => _h = await ChatHarness.StartAsync(DatabasePath);

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task RunAsync_Piped_AScriptThatWaitsForEachAnswer_GetsItBeforeItWritesTheNextLine()
    {
        // A conversation over a real pipe (as `coproc` or expect would hold one): the shell must print and flush an
        // answer before it waits for the next line, not keep it until more input or the end arrives.
        using var toShell = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var input = new PipedLineReader(new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, toShell.ClientSafePipeHandle));
        var output = new LineSignallingWriter();
        await using var error = new StringWriter();
        var run = _h.Shell.RunAsync(new ShellSession("alice", null, Interactive: false), input, output, error, CancellationToken.None);

        foreach (var word in new[] { "first", "second", "third" })
        {
            await toShell.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"echo {word}\n"));
            await toShell.FlushAsync();
            (await output.NextLineAsync(TimeSpan.FromSeconds(30))).ShouldBe(word);
        }

        toShell.Dispose();
        (await run).ShouldBe(0);
    }

    /// <summary>A writer that hands over each line once it is flushed, as a reader at the other end of a pipe sees it.</summary>
    private sealed class LineSignallingWriter : StringWriter
    {
        private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private int _handedOver;

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Hand();
            return Task.CompletedTask;
        }

        public override void Flush() => Hand();

        public async Task<string> NextLineAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            return await _lines.Reader.ReadAsync(cts.Token);
        }

        private void Hand()
        {
            var text = ToString();
            var end = text.LastIndexOf('\n');
            if (end < _handedOver)
            {
                return;
            }

            foreach (var line in text[_handedOver..end].Split('\n'))
            {
                _lines.Writer.TryWrite(line.TrimEnd('\r'));
            }

            _handedOver = end + 1;
        }
    }

    [Fact]
    public async Task RunAsync_Piped_OneReplyPerLineInOrderWithNoPrompt()
    {
        var (code, output, error) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), "echo one\n!ping\nopsrobot: echo three\n");

        code.ShouldBe(0);
        output.ShouldBe("one\npong\nthree\n");
        error.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_Piped200Lines_200RepliesNothingLost()
    {
        var input = string.Concat(Enumerable.Range(1, 200).Select(i => $"echo line {i}\n"));

        var (code, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), input);

        code.ShouldBe(0);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(Enumerable.Range(1, 200).Select(i => $"line {i}"));
        var user = await _h.Users.FindByNameAsync("alice", CancellationToken.None);
        var direct = await _h.Rooms.GetOrCreateDirectAsync(user!.Id, user.Name, _h.Time.GetUtcNow(), CancellationToken.None);
        (await _h.HistoryAsync(direct)).Select(m => m.Text).ShouldBe(Enumerable.Range(1, 200).SelectMany(i => new[] { $"echo line {i}", $"line {i}" }));
    }

    [Fact]
    public async Task RunAsync_PipedWithoutTrailingNewline_LastLineAnswered()
    {
        var (code, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), "echo one\necho last");

        code.ShouldBe(0);
        output.ShouldBe("one\nlast\n");
    }

    [Fact]
    public async Task RunAsync_PipedBlankLines_Skipped()
    {
        var (_, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), "\n   \n!ping\n\n");

        output.ShouldBe("pong\n");
    }

    [Fact]
    public async Task RunAsync_PipedRefusedLine_ExplainedAndTheNextLineStillAnswered()
    {
        var (code, output, _) = await _h.RunShellAsync(
            new ShellSession("alice", null, Interactive: false), "echo \x1b[31mred\n" + new string('a', 4001) + "\n!ping\n");

        code.ShouldBe(0);
        output.ShouldBe(
            "That message holds control characters or bytes that are not text, so it was not read.\n" +
            "That message is 4,001 characters long; the limit is 4,000. Attach long text as a file or split it.\n" +
            "pong\n");
    }

    [Fact]
    public async Task RunAsync_PipedMultiLineReply_RenderedForTheTerminal()
    {
        var (_, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), "help\n");

        output.ShouldContain("\ncore\n");
        output.ShouldNotContain("**");
        output.Split('\n').ShouldNotContain(l => l.StartsWith('|'));
    }

    [Fact]
    public async Task RunAsync_Interactive_GreetsPromptsAndStopsAtExit()
    {
        var (code, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: true), "ping\nexit\necho after exit\n");

        code.ShouldBe(0);
        output.ShouldBe($"{Greeting}\nalice@opsrobot> pong\nalice@opsrobot> \n");
        var user = await _h.Users.FindByNameAsync("alice", CancellationToken.None);
        var direct = await _h.Rooms.GetOrCreateDirectAsync(user!.Id, user.Name, _h.Time.GetUtcNow(), CancellationToken.None);
        (await _h.HistoryAsync(direct)).Select(m => m.Text).ShouldBe(["ping", "pong"]);
    }

    [Theory]
    [InlineData("quit", "quit")]
    [InlineData("exit with spaces", "  exit  ")]
    [InlineData("end of input (Ctrl-D)", null)]
    public async Task RunAsync_Interactive_OtherWaysToLeave(string row, string? leave)
    {
        var (code, output, _) = await _h.RunShellAsync(new ShellSession("alice", null, Interactive: true), leave is null ? "" : leave + "\n!ping\n");

        code.ShouldBe(0, row);
        output.ShouldBe($"{Greeting}\nalice@opsrobot> \n", row);
    }

    [Fact]
    public async Task RunAsync_RoomMode_RequiresAddressingAndCreatesTheRoom()
    {
        var (code, output, _) = await _h.RunShellAsync(
            new ShellSession("alice", "ops", Interactive: false), "good morning\n!ping\nopsrobot: echo hi\nping\n");

        code.ShouldBe(0);
        output.ShouldBe("pong\nhi\n");
        var alice = await _h.Users.FindByNameAsync("alice", CancellationToken.None);
        var room = await _h.Rooms.FindAsync("ops", CancellationToken.None);
        room.ShouldNotBeNull().Kind.ShouldBe(RoomKind.Room);
        (await _h.Rooms.IsMemberAsync(room.Id, alice!.Id, CancellationToken.None)).ShouldBeTrue();
        (await _h.HistoryAsync(room)).Select(m => m.Text).ShouldBe(["good morning", "!ping", "pong", "opsrobot: echo hi", "hi", "ping"]);
    }

    [Fact]
    public async Task RunAsync_RoomModeInteractive_PromptNamesTheRoomAndGreetingExplainsAddressing()
    {
        var (_, output, _) = await _h.RunShellAsync(new ShellSession("alice", "ops", Interactive: true), "exit\n");

        output.ShouldBe("OpsRobot shell: you are alice in ops (address the robot with !command or \"opsrobot: command\"). Try help; Ctrl-D or exit to leave.\nalice@ops> \n");
    }

    [Fact]
    public async Task RunAsync_RoomModeExistingRoom_JoinsIt()
    {
        await _h.RunShellAsync(new ShellSession("alice", "ops", Interactive: false), "hello\n");

        var (code, output, _) = await _h.RunShellAsync(new ShellSession("bob", "ops", Interactive: false), "!whoami\n");

        code.ShouldBe(0);
        var bob = await _h.Users.FindByNameAsync("bob", CancellationToken.None);
        output.ShouldBe($"You are bob (user id `{bob!.Id}` on `shell`), writing in room `ops`.\n");
        var room = await _h.Rooms.FindAsync("ops", CancellationToken.None);
        (await _h.Rooms.GetMemberIdsAsync(room!.Id, CancellationToken.None)).Count.ShouldBe(2);
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("a space", "alice smith")]
    [InlineData("starts with a dash, like a mistyped option", "-alice")]
    [InlineData("a path", "../root")]
    public async Task RunAsync_InvalidUserName_Returns2WithMessageAndCreatesNothing(string row, string name)
    {
        var (code, output, error) = await _h.RunShellAsync(new ShellSession(name, null, Interactive: false), "!ping\n");

        code.ShouldBe(2, row);
        output.ShouldBeEmpty(row);
        error.ShouldContain($"'{name}' is not a valid user name", customMessage: row);
        error.ShouldContain("--user NAME", customMessage: row);
        (await _h.Users.CountAsync(CancellationToken.None)).ShouldBe(0, row);
    }

    [Theory]
    [InlineData("capitals", "Ops")]
    [InlineData("a space", "ops team")]
    [InlineData("a direct room's name", "@bob")]
    [InlineData("empty", "")]
    public async Task RunAsync_InvalidRoomName_Returns2WithMessageAndCreatesNothing(string row, string room)
    {
        var (code, output, error) = await _h.RunShellAsync(new ShellSession("alice", room, Interactive: false), "!ping\n");

        code.ShouldBe(2, row);
        output.ShouldBeEmpty(row);
        error.ShouldContain($"'{room}' is not a valid room name", customMessage: row);
        (await _h.Users.CountAsync(CancellationToken.None)).ShouldBe(0, row);
    }

    [Fact]
    public async Task RunAsync_SameUserInTwoRuns_SameUserRecordAndConversation()
    {
        await _h.RunShellAsync(new ShellSession("alice", null, Interactive: false), "echo first run\n");
        var first = await _h.Users.FindByNameAsync("alice", CancellationToken.None);
        await using var secondRun = await ChatHarness.StartAsync(DatabasePath);

        var (code, output, _) = await secondRun.RunShellAsync(new ShellSession("Alice", null, Interactive: false), "echo second run\n");

        code.ShouldBe(0);
        output.ShouldBe("second run\n");
        (await secondRun.Users.CountAsync(CancellationToken.None)).ShouldBe(1);
        (await secondRun.Users.FindByNameAsync("alice", CancellationToken.None)).ShouldBe(first);
        var direct = await secondRun.Rooms.FindAsync("@alice", CancellationToken.None);
        (await secondRun.HistoryAsync(direct!)).Select(m => m.Text).ShouldBe(["echo first run", "first run", "echo second run", "second run"]);
    }
}
