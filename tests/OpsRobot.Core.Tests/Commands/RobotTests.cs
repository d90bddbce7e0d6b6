using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Tests.Support;

namespace OpsRobot.Core.Tests.Commands;

public sealed class RobotTests
{
    private static readonly string[] CoreUsages = ["`!help [COMMAND]`", "`!ping`", "`!echo TEXT`", "`!whoami`", "`!version`", "`!status`"];

    [Theory]
    [InlineData("prefix", "!ping")]
    [InlineData("mention", "opsrobot: ping")]
    [InlineData("at-mention", "@opsrobot, ping")]
    [InlineData("command word in capitals", "!PING")]
    public async Task HandleAsync_Ping_AnswersPong(string form, string line)
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync(line);

        reply.ShouldBe("pong", form);
    }

    [Fact]
    public async Task HandleAsync_Echo_SaysTheTextBack()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!echo  部署 booking 到 生产 🚀 ");

        reply.ShouldBe("部署 booking 到 生产 🚀");
    }

    [Fact]
    public async Task HandleAsync_EchoWithoutText_ShowsUsage()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!echo");

        reply.ShouldBe("Usage: `!echo TEXT`");
    }

    [Fact]
    public async Task HandleAsync_WhoAmIInRoom_NamesSenderAndRoom()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!whoami");

        reply.ShouldBe("You are **alice** (user id `u42` on `test`), writing in room `ops`.");
    }

    [Fact]
    public async Task HandleAsync_WhoAmIInDirectRoom_SaysDirectMessage()
    {
        var robot = new TestRobot();

        var reply = await robot.Robot.HandleAsync(robot.Direct("whoami"));

        reply.ShouldNotBeNull().Text.ShouldEndWith("writing in a direct message.");
    }

    [Fact]
    public async Task HandleAsync_WhoAmIWithMarkdownInName_NameCannotBreakTheBold()
    {
        var robot = new TestRobot();
        var message = robot.InRoom("!whoami") with { Sender = new ChatUser("u1", "a*_`b") };

        var reply = await robot.Robot.HandleAsync(message);

        reply.ShouldNotBeNull().Text.ShouldStartWith("You are **a\\*\\_\\`b** ");
    }

    [Fact]
    public async Task HandleAsync_Help_ListsAllSixCoreCommandsUnderCore()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!help");

        reply.ShouldNotBeNull();
        var core = reply.IndexOf("**core**", StringComparison.Ordinal);
        core.ShouldBeGreaterThan(0);
        foreach (var usage in CoreUsages)
        {
            reply.IndexOf(usage, StringComparison.Ordinal).ShouldBeGreaterThan(core, usage);
        }

        reply.ShouldContain("| `!ping` | Check that the robot is listening. |");
        reply.ShouldEndWith("`!help COMMAND` shows one command in detail. This list holds what you may run; `!whoami` shows your roles.");
    }

    [Fact]
    public async Task HandleAsync_HelpWithAnotherPack_GroupsCommandsByPack()
    {
        var robot = new TestRobot(extra: new TestCommand("deploy", "ship"));

        var reply = await robot.SayAsync("!help");

        reply.ShouldNotBeNull();
        var core = reply.IndexOf("**core**", StringComparison.Ordinal);
        var deploy = reply.IndexOf("**deploy**", StringComparison.Ordinal);
        deploy.ShouldBeGreaterThan(core);
        reply.IndexOf("`!ship`", StringComparison.Ordinal).ShouldBeGreaterThan(deploy);
        reply.IndexOf("`!status`", StringComparison.Ordinal).ShouldBeLessThan(deploy);
    }

    [Theory]
    [InlineData("command name", "!help ping")]
    [InlineData("command name with the prefix", "!help !ping")]
    [InlineData("command name in capitals", "!help PING")]
    public async Task HandleAsync_HelpForOneCommand_ShowsItsUsage(string form, string line)
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync(line);

        reply.ShouldBe("**!ping** (core)\nCheck that the robot is listening.\n\nUsage: `!ping`", form);
    }

    [Fact]
    public async Task HandleAsync_HelpForUnknownCommand_SaysThereIsNone()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!help nosuch");

        reply.ShouldBe("There is no command `nosuch`. Say `!help` for the list.");
    }

    [Fact]
    public async Task HandleAsync_HelpForMisspeltCommand_SuggestsTheRightOne()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!help ecoh");

        reply.ShouldBe("There is no command `ecoh`. Did you mean `echo`? Say `!help` for the list.");
    }

    [Fact]
    public async Task HandleAsync_UnknownCommandNearAKnownOne_SuggestsIt()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!pnig");

        reply.ShouldBe("I don't know the command `pnig`. Did you mean `!ping`? Say `!help` for the list of commands.");
    }

    [Fact]
    public async Task HandleAsync_UnknownCommandFarFromAll_NoSuggestion()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!xyzzy");

        reply.ShouldBe("I don't know the command `xyzzy`. Say `!help` for the list of commands.");
    }

    [Fact]
    public async Task HandleAsync_UnknownCommandWithBackticks_CannotBreakOutOfTheCodeSpan()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!a`b");

        reply.ShouldNotBeNull().ShouldStartWith("I don't know the command ``a`b``.");
    }

    [Fact]
    public async Task HandleAsync_VeryLongUnknownCommand_IsShortenedInTheReply()
    {
        var robot = new TestRobot();
        var word = new string('x', 300);

        var reply = await robot.SayAsync("!" + word);

        reply.ShouldNotBeNull().ShouldContain("`" + new string('x', 40) + "…`");
        reply.ShouldNotContain(new string('x', 41));
    }

    [Theory]
    [InlineData("bare prefix", "!")]
    [InlineData("bare mention", "opsrobot:")]
    public async Task HandleAsync_AddressedWithoutCommand_PointsToHelp(string form, string line)
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync(line);

        reply.ShouldBe("Yes? Try `!help` to see what I can do.", form);
    }

    [Theory]
    [InlineData("plain chatter", "deploying booking now")]
    [InlineData("word starting with the robot's name", "opsrobotics rocks")]
    [InlineData("whitespace only", "   ")]
    [InlineData("binary chatter", "cat \x1b[31m")]
    public async Task HandleAsync_LineNotAddressedInRoom_ReturnsNull(string form, string line)
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync(line);

        reply.ShouldBeNull(form);
    }

    [Fact]
    public async Task HandleAsync_PlainLineInDirectRoom_IsACommand()
    {
        var robot = new TestRobot();

        var reply = await robot.Robot.HandleAsync(robot.Direct("ping"));

        reply.ShouldNotBeNull().Text.ShouldBe("pong");
    }

    [Theory]
    [InlineData("prefix", "!echo ")]
    [InlineData("mention", "opsrobot: echo ")]
    [InlineData("at-mention", "@opsrobot, echo ")]
    public async Task HandleAsync_OversizedAddressedLine_ExplainsTheLimit(string form, string start)
    {
        var robot = new TestRobot();
        var line = start + new string('a', 5000 - start.Length);

        var reply = await robot.SayAsync(line);

        reply.ShouldBe("That message is 5,000 characters long; the limit is 4,000. Attach long text as a file or split it.", form);
    }

    [Fact]
    public async Task HandleAsync_OversizedLineInDirectRoom_ExplainsTheLimit()
    {
        var robot = new TestRobot();

        var reply = await robot.Robot.HandleAsync(robot.Direct(new string('a', 4001)));

        reply.ShouldNotBeNull().Text.ShouldContain("the limit is 4,000");
    }

    [Fact]
    public async Task HandleAsync_OversizedUnaddressedLine_ReturnsNull()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("log dump: " + new string('a', 10_000));

        reply.ShouldBeNull();
    }

    [Fact]
    public async Task HandleAsync_OversizedChatterWithEmptyPrefix_ReturnsNull()
    {
        // With no prefix configured only mentions address the robot, so a long paste in a room is still chatter.
        var robot = new TestRobot(new RobotOptions { CommandPrefix = string.Empty });

        var reply = await robot.SayAsync("log dump: " + new string('a', 10_000));

        reply.ShouldBeNull();
    }

    [Fact]
    public async Task HandleAsync_AddressedBinaryLine_ExplainsTheRefusal()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!echo \x1b[2J");

        reply.ShouldBe("That message holds control characters or bytes that are not text, so it was not read.");
    }

    [Fact]
    public async Task HandleAsync_CommandThrows_AnswersNamingTheCommandWithoutTheDetails()
    {
        var boom = new TestCommand("test", "boom", (_, _) => throw new InvalidOperationException("password=hunter2"));
        var robot = new TestRobot(extra: boom);

        var reply = await robot.SayAsync("!boom");

        reply.ShouldBe("`boom` failed: InvalidOperationException. The details are in the server log.");
    }

    [Fact]
    public async Task HandleAsync_CommandTimesOutOnItsOwn_AnswersRatherThanThrowing()
    {
        var slow = new TestCommand("test", "slow", (_, _) => throw new TaskCanceledException("the backend timed out"));
        var robot = new TestRobot(extra: slow);

        var reply = await robot.SayAsync("!slow");

        reply.ShouldBe("`slow` failed: TaskCanceledException. The details are in the server log.");
    }

    [Fact]
    public async Task HandleAsync_CallerCancels_CancellationPropagates()
    {
        var waits = new TestCommand("test", "wait", (_, ct) =>
        {
            ct.ThrowIfCancellationRequested();
            return ValueTask.FromResult(new OutgoingMessage("not cancelled"));
        });
        var robot = new TestRobot(extra: waits);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(async () => await robot.Robot.HandleAsync(robot.InRoom("!wait"), cts.Token));
    }

    [Theory]
    [InlineData("a command's answer", "!ping")]
    [InlineData("an unknown command", "!nosuch")]
    [InlineData("a failing command", "!boom")]
    [InlineData("a refusal", "!echo \0")]
    [InlineData("an empty address", "!")]
    public async Task HandleAsync_MessageInThread_ReplyGoesToTheSameThread(string form, string line)
    {
        var boom = new TestCommand("test", "boom", (_, _) => throw new InvalidOperationException());
        var robot = new TestRobot(extra: boom);
        var message = robot.InRoom(line) with { ThreadId = "thread-9" };

        var reply = await robot.Robot.HandleAsync(message);

        reply.ShouldNotBeNull(form).ThreadId.ShouldBe("thread-9", form);
    }

    [Fact]
    public async Task HandleAsync_CommandChoosesItsOwnThread_KeepsIt()
    {
        var elsewhere = new TestCommand("test", "elsewhere", (_, _) => ValueTask.FromResult(new OutgoingMessage("moved") { ThreadId = "thread-other" }));
        var robot = new TestRobot(extra: elsewhere);
        var message = robot.InRoom("!elsewhere") with { ThreadId = "thread-9" };

        var reply = await robot.Robot.HandleAsync(message);

        reply.ShouldNotBeNull().ThreadId.ShouldBe("thread-other");
    }

    [Fact]
    public async Task HandleAsync_CommandReceivesArgumentsAndRegisteredName()
    {
        CommandContext? seen = null;
        var spy = new TestCommand("test", "deploy", (ctx, _) =>
        {
            seen = ctx;
            return ValueTask.FromResult(new OutgoingMessage("ok"));
        });
        var robot = new TestRobot(extra: spy);

        await robot.SayAsync("opsrobot: DEPLOY   booking   to prod  ");

        seen.ShouldNotBeNull();
        seen.CommandName.ShouldBe("deploy");
        seen.Arguments.ShouldBe("booking   to prod");
    }

    [Fact]
    public async Task HandleAsync_Version_NamesTheVersion()
    {
        var robot = new TestRobot();

        var reply = await robot.SayAsync("!version");

        reply.ShouldNotBeNull().ShouldStartWith("OpsRobot 1.2.3-test on .NET ");
    }
}
