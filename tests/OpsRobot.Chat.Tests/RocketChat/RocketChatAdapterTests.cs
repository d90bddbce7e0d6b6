using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.RocketChat;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Tests.RocketChat;

/// <summary>The Rocket.Chat adapter against <see cref="FakeRocketChat"/>, which speaks the REST API and DDP as documented.</summary>
public sealed class RocketChatAdapterTests
{
    private const string Alice = "A1iceUser0000000x";
    private const string Bob = "B0bUser000000000x";
    private const string Ops = "0psRoom000000000x";

    [Fact]
    public async Task PingInThread_AnsweredWithTmid_AndOwnMessageId()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);

        await rc.SayAsync(Alice, "alice", Ops, "!ping", tmid: "Thr3adRoot000000x");

        var post = await rc.NextPostAsync();
        post["rid"]!.GetValue<string>().ShouldBe(Ops);
        post["tmid"]!.GetValue<string>().ShouldBe("Thr3adRoot000000x");
        post["msg"]!.GetValue<string>().ShouldBe("pong");
        post["_id"]!.GetValue<string>().Length.ShouldBe(17);
    }

    [Fact]
    public async Task PasswordSignIn_ThenDirectMessage_SenderIsTheImmutableId()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc, password: true);

        await rc.SayAsync(Alice, "alice", "A1iceUser0000000xB0tUser00000000xx", "whoami", roomType: "d");

        var text = (await rc.NextPostAsync())["msg"]!.GetValue<string>();
        text.ShouldContain($"`{Alice}`");
        text.ShouldContain("`rocketchat`");
        text.ShouldContain("a direct message");
        rc.Logins.ShouldBe(1);
    }

    [Fact]
    public async Task DdpPing_IsAnsweredWithPong()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);

        await rc.PingAsync("keepalive-7");

        (await rc.NextPongAsync()).ShouldBe("keepalive-7");
    }

    [Fact]
    public async Task EditsSystemMessagesOwnPostsAndRepeats_AreNotCommands()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);

        var first = await rc.SayAsync(Alice, "alice", Ops, "!echo first");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("first");
        await rc.SayAsync(Alice, "alice", Ops, "!echo first", id: first, shape: m => m["tcount"] = 1); // thread count update re-sends it
        await rc.SayAsync(Alice, "alice", Ops, "!echo edited", shape: m => m["editedAt"] = new System.Text.Json.Nodes.JsonObject { ["$date"] = 1 });
        await rc.SayAsync(Alice, "alice", Ops, "alice joined", shape: m => m["t"] = "uj");
        await rc.SayAsync(FakeRocketChat.BotId, "opsrobot", Ops, "!echo myself");
        await rc.SayAsync(Alice, "alice", Ops, "@opsrobot echo last");

        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("last");
    }

    [Fact]
    public async Task Buttons_PostTheirCommandAsThePressingUser_RoundTrip()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);

        await rc.SayAsync(Alice, "alice", Ops, "!deploy 12", tmid: "Thr3adRoot000000x");
        var question = await rc.NextPostAsync();
        var actions = question["attachments"]![0]!["actions"]!.AsArray();
        actions.Select(a => a!["msg"]!.GetValue<string>()).ShouldBe(["!approve 12", "!deny 12"]);
        actions.ShouldAllBe(a => a!["msg_in_chat_window"]!.GetValue<bool>());

        // Pressing it makes the client post the action's msg into the same room and thread as the presser.
        await rc.SayAsync(Bob, "bob", Ops, actions[0]!["msg"]!.GetValue<string>(), tmid: question["tmid"]!.GetValue<string>());

        var answer = await rc.NextPostAsync();
        answer["msg"]!.GetValue<string>().ShouldBe($"approved 12 by {Bob} on rocketchat");
        answer["tmid"]!.GetValue<string>().ShouldBe("Thr3adRoot000000x");
    }

    [Fact]
    public async Task DisconnectMidStream_QueuedRepliesDeliveredAfterReconnect_NothingDuplicated()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);
        await rc.SayAsync(Alice, "alice", Ops, "!echo one");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("one");

        rc.Drop();
        await AdapterHarness.WaitUntilAsync(() => robot.Adapter.State != ChatAdapterState.Ready);
        var sender = new ChatAdapterReplySender(robot.Adapter);
        (await sender.SendAsync("rocketchat", new ChatRoom(Ops, "ops", false), new OutgoingMessage("result while away"), CancellationToken.None)).ShouldBeTrue();

        await rc.WaitSubscribedAsync();
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("result while away");
        await rc.SayAsync(Alice, "alice", Ops, "!echo two");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("two");
        rc.Connections.ShouldBe(2);
    }

    [Fact]
    public async Task MessagesSaidWhileDisconnected_AreCaughtUpAfterReconnect_Once()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);
        await rc.SayAsync(Alice, "alice", Ops, "!echo one");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("one");

        rc.RefuseConnections = true;
        rc.Drop();
        await AdapterHarness.WaitUntilAsync(() => robot.Adapter.State != ChatAdapterState.Ready);
        await rc.SayAsync(Alice, "alice", Ops, "!echo said while the robot was away");
        rc.RefuseConnections = false;

        await rc.WaitSubscribedAsync();
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("said while the robot was away");
        await rc.SayAsync(Alice, "alice", Ops, "!echo two");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("two");
        rc.Syncs.ShouldBe(1);
    }

    [Fact]
    public async Task RateLimited_WaitsUntilTheReset_ThenPostsOnce()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        rc.RateLimitNext = 1;
        await using var robot = await StartRobotAsync(rc);

        await rc.SayAsync(Alice, "alice", Ops, "!ping");

        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("pong");
        var attempts = rc.PostAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 200]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5));
        (await rc.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    [Theory]
    [InlineData(null, null, null, null, "set UserId and AuthToken")]
    [InlineData("u", "t", "n", "p", "not both")]
    [InlineData("u", null, null, null, "set UserId and AuthToken")]
    public void Configuration_Credentials_MustBeOneWayOrTheOther(string? userId, string? token, string? user, string? password, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:RocketChat:Enabled"] = "true",
            ["OpsRobot:Chat:RocketChat:ServerUrl"] = "https://chat.example.com/",
            ["OpsRobot:Chat:RocketChat:UserId"] = userId,
            ["OpsRobot:Chat:RocketChat:AuthToken"] = token,
            ["OpsRobot:Chat:RocketChat:Username"] = user,
            ["OpsRobot:Chat:RocketChat:Password"] = password,
        }).Build();

        Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddOpsRobotRocketChat(configuration)).Message.ShouldContain(expected);
    }

    [Fact]
    public async Task DirectMessage_OpensByTheUsernameSeen_AndReusesTheRoomId()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        rc.Users["alice"] = Alice;
        await using var robot = await StartRobotAsync(rc);
        var sender = new ChatAdapterReplySender(robot.Adapter);
        await rc.SayAsync(Alice, "alice", Ops, "!ping");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("pong");

        (await sender.SendDirectAsync("rocketchat", new ChatUser(Alice, "not-her-username"), new OutgoingMessage("code 1") { ThreadId = "Thr3adRoot000000x" }, CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("rocketchat", new ChatUser(Alice, "alice"), new OutgoingMessage("code 2"), CancellationToken.None)).ShouldBeTrue();

        var first = await rc.NextPostAsync();
        first["rid"]!.GetValue<string>().ShouldBe(FakeRocketChat.DirectRoomWith(Alice));
        first["msg"]!.GetValue<string>().ShouldBe("code 1");
        first["tmid"].ShouldBeNull("a direct message never goes into the room's thread");
        var second = await rc.NextPostAsync();
        second["rid"]!.GetValue<string>().ShouldBe(FakeRocketChat.DirectRoomWith(Alice));
        second["msg"]!.GetValue<string>().ShouldBe("code 2");
        rc.OpenAttempts.Select(a => (a.Username, a.Status)).ShouldBe([("alice", 200)], "opened once, by the username seen on Alice's messages");
    }

    [Fact]
    public async Task DirectMessage_UserNeverSeen_OrOpenRefused_ReturnsFalse_AndPostsNothingAnywhere()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        await using var robot = await StartRobotAsync(rc);
        var sender = new ChatAdapterReplySender(robot.Adapter);

        // Never seen: no username to open a direct room by, so no call at all.
        (await sender.SendDirectAsync("rocketchat", new ChatUser(Bob, "bob"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();
        rc.OpenAttempts.ShouldBeEmpty();

        // Seen, but the server refuses (here: it does not know the user any more).
        await rc.SayAsync(Alice, "alice", Ops, "!ping");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("pong");
        (await sender.SendDirectAsync("rocketchat", new ChatUser(Alice, "alice"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();

        (await rc.NoPostWithinAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        rc.OpenAttempts.Select(a => a.Status).ShouldBe([400]);
    }

    [Fact]
    public async Task DirectMessage_RateLimitedOpen_IsWaitedOut()
    {
        await using var rc = await FakeRocketChat.StartAsync();
        rc.Users["alice"] = Alice;
        rc.RateLimitOpenNext = 1;
        await using var robot = await StartRobotAsync(rc);
        await rc.SayAsync(Alice, "alice", Ops, "!ping");
        (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("pong");

        (await new ChatAdapterReplySender(robot.Adapter).SendDirectAsync("rocketchat", new ChatUser(Alice, "alice"), new OutgoingMessage("code 654321"), CancellationToken.None)).ShouldBeTrue();

        (await rc.NextPostAsync())["rid"]!.GetValue<string>().ShouldBe(FakeRocketChat.DirectRoomWith(Alice));
        var attempts = rc.OpenAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 200]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5));
        (await rc.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    /// <summary>The Rocket.Chat adapter, signed in with a personal access token or (<paramref name="password"/>) a password, subscribed.</summary>
    private static async Task<RunningAdapter<RocketChatAdapter>> StartRobotAsync(FakeRocketChat rc, bool password = false)
    {
        var options = new RocketChatOptions
        {
            Enabled = true,
            ServerUrl = rc.ServerUrl,
            UserId = password ? null : FakeRocketChat.BotId,
            AuthToken = password ? null : FakeRocketChat.BotToken,
            Username = password ? "opsrobot" : null,
            Password = password ? FakeRocketChat.BotPassword : null,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(30),
            MessageDelay = TimeSpan.Zero,
        };
        options.Validate();
        var robot = await RunningAdapter<RocketChatAdapter>.StartAsync((services, _) =>
            new RocketChatAdapter(Options.Create(options), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<RocketChatAdapter>>()));
        await rc.WaitSubscribedAsync();
        await robot.WaitReadyAsync();
        return robot;
    }
}
