using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Mattermost;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Status;

namespace OpsRobot.Chat.Tests.Mattermost;

/// <summary>The Mattermost adapter against <see cref="FakeMattermost"/>, which speaks the WebSocket API and REST API v4 as documented.</summary>
public sealed class MattermostAdapterTests
{
    private const string Alice = "a11ce000000000000000000000";
    private const string Bob = "b0b00000000000000000000000";
    private const string Ops = "0ps00000000000000000000000";

    [Fact]
    public async Task PingInThread_AnsweredUnderTheSameRoot()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm);

        var root = FakeMattermost.NewId('t');
        await mm.PostAsUserAsync(Alice, "alice", Ops, "!ping", rootId: root);

        var post = await mm.NextPostAsync();
        post["channel_id"]!.GetValue<string>().ShouldBe(Ops);
        post["root_id"]!.GetValue<string>().ShouldBe(root);
        post["message"]!.GetValue<string>().ShouldBe("pong");
        post["pending_post_id"]!.GetValue<string>().ShouldStartWith(FakeMattermost.BotId + ":");
    }

    [Fact]
    public async Task DirectMessage_NeedsNoPrefix_SenderIsTheImmutableId_SystemAndOwnPostsIgnored()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm);

        await mm.PostAsUserAsync(Alice, "alice", Ops, "!echo joined", type: "system_join_channel");
        await mm.PostAsUserAsync(FakeMattermost.BotId, "opsrobot", Ops, "!echo myself");
        await mm.PostAsUserAsync(Alice, "alice", Ops, "@opsrobot echo hello");
        await mm.PostAsUserAsync(Alice, "alice", "d1rect00000000000000000000", "whoami", channelType: "D");

        // Rooms are answered independently, so the two replies may come in either order.
        var replies = new[] { await mm.NextPostAsync(), await mm.NextPostAsync() };
        replies.Single(p => p["channel_id"]!.GetValue<string>() == Ops)["message"]!.GetValue<string>().ShouldBe("hello");
        var whoami = replies.Single(p => p["channel_id"]!.GetValue<string>() != Ops)["message"]!.GetValue<string>();
        whoami.ShouldContain($"`{Alice}`");
        whoami.ShouldContain("**alice**");
        whoami.ShouldContain("a direct message");
    }

    [Fact]
    public async Task Buttons_RoundTrip_ThroughTheIntegrationUrl_ForgedPressRefused()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm, withActions: true);

        var root = FakeMattermost.NewId('t');
        await mm.PostAsUserAsync(Alice, "alice", Ops, "!deploy 12", rootId: root);
        var question = await mm.NextPostAsync();
        var actions = question["props"]!["attachments"]![0]!["actions"]!.AsArray();
        actions.Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["Approve", "Deny"]);

        var forged = await mm.PressAsync(question, 0, Bob, "bob", c => { c["command"] = "!approve 13"; return c; });
        forged.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var moved = await mm.PressAsync(question, 0, Bob, "bob", c => { c["root_id"] = string.Empty; return c; });
        moved.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var pressed = await mm.PressAsync(question, 0, Bob, "bob");
        pressed.StatusCode.ShouldBe(HttpStatusCode.OK);

        var answer = await mm.NextPostAsync();
        answer["message"]!.GetValue<string>().ShouldBe($"approved 12 by {Bob} on mattermost");
        answer["root_id"]!.GetValue<string>().ShouldBe(root);
        answer["channel_id"]!.GetValue<string>().ShouldBe(Ops);
    }

    [Fact]
    public async Task Buttons_WithoutCallbackAddress_AreTypedCommandHints()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm);

        await mm.PostAsUserAsync(Alice, "alice", Ops, "!deploy 7");

        var post = await mm.NextPostAsync();
        post["message"]!.GetValue<string>().ShouldBe("Deploy 7 needs approval.\n\n**Approve**: `!approve 7` · **Deny**: `!deny 7`");
        post["props"].ShouldBeNull();
    }

    [Fact]
    public async Task DisconnectMidStream_ResumesAndReplays_LosesNothing_DuplicatesNothing()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm);
        await mm.PostAsUserAsync(Alice, "alice", Ops, "!echo one");
        (await mm.NextPostAsync())["message"]!.GetValue<string>().ShouldBe("one");

        mm.Drop();
        await mm.PostAsUserAsync(Alice, "alice", Ops, "!echo said while the robot was away");
        var sender = new ChatAdapterReplySender(robot.Adapter);
        (await sender.SendAsync("mattermost", new ChatRoom(Ops, "ops", false), new OutgoingMessage("result while away"), CancellationToken.None)).ShouldBeTrue();

        var replies = new[] { (await mm.NextPostAsync())["message"]!.GetValue<string>(), (await mm.NextPostAsync())["message"]!.GetValue<string>() };
        replies.ShouldBe(["result while away", "said while the robot was away"], ignoreOrder: true);
        await mm.PostAsUserAsync(Alice, "alice", Ops, "!echo two");
        (await mm.NextPostAsync())["message"]!.GetValue<string>().ShouldBe("two");
        mm.Resumptions.ShouldBe(1);
    }

    [Fact]
    public async Task RateLimited_WaitsForTheReset_ThenPostsOnce()
    {
        await using var mm = await FakeMattermost.StartAsync();
        mm.RateLimitNext = 1;
        await using var robot = await StartRobotAsync(mm);

        await mm.PostAsUserAsync(Alice, "alice", Ops, "!ping");

        (await mm.NextPostAsync())["message"]!.GetValue<string>().ShouldBe("pong");
        var attempts = mm.PostAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 201]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9));
        (await mm.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    [Fact]
    public async Task WrongToken_StatusSaysSo_WithoutTheToken()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm, token: "wrongtokenwrongtoken000000", waitConnected: false);

        await AdapterHarness.WaitUntilAsync(() => robot.Adapter.LastError is not null);
        var status = await new ChatAdapterStatus(robot.Adapter).GetStatusAsync(CancellationToken.None);

        status.State.ShouldBe(HealthState.Degraded);
        status.Detail.ShouldContain("401");
        status.Detail.ShouldNotContain("wrongtoken");
    }

    [Theory]
    [InlineData("not json", HttpStatusCode.BadRequest, "malformed body")]
    [InlineData("""{"user_id":"a11ce000000000000000000000","channel_id":"0ps00000000000000000000000","context":{"command":"!approve 1"}}""", HttpStatusCode.BadRequest, "no signature")]
    [InlineData("""{"user_id":"a11ce000000000000000000000","channel_id":"0ps00000000000000000000000","context":{"command":"!approve 1","signature":"00"}}""", HttpStatusCode.Forbidden, "a guessed signature")]
    [InlineData("""{"user_id":"../../etc","channel_id":"0ps00000000000000000000000","context":{"command":"!approve 1","signature":"00"}}""", HttpStatusCode.BadRequest, "a user id that is not one")]
    public async Task ActionEndpoint_HostileBodies_AreRefused(string body, HttpStatusCode expected, string what)
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm, withActions: true);

        using var client = new HttpClient();
        var response = await client.PostAsync(robot.EndpointUrl, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(expected, what);
        (await mm.NoPostWithinAsync(TimeSpan.FromMilliseconds(300))).ShouldBeTrue(what);
    }

    [Fact]
    public async Task DirectMessage_OpensTheChannelWithBotAndUser_AndReusesItsId()
    {
        await using var mm = await FakeMattermost.StartAsync();
        await using var robot = await StartRobotAsync(mm);
        var sender = new ChatAdapterReplySender(robot.Adapter);

        (await sender.SendDirectAsync("mattermost", new ChatUser(Alice, "alice"), new OutgoingMessage("code 1") { ThreadId = FakeMattermost.NewId('t') }, CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("mattermost", new ChatUser(Alice, "alice"), new OutgoingMessage("code 2"), CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("mattermost", new ChatUser(Bob, "bob"), new OutgoingMessage("code 3"), CancellationToken.None)).ShouldBeTrue();

        var first = await mm.NextPostAsync();
        first["channel_id"]!.GetValue<string>().ShouldBe(mm.DirectChannelWith(Alice));
        first["message"]!.GetValue<string>().ShouldBe("code 1");
        first["root_id"]!.GetValue<string>().ShouldBeEmpty("a direct message never goes into the room's thread");
        var second = await mm.NextPostAsync();
        second["channel_id"]!.GetValue<string>().ShouldBe(mm.DirectChannelWith(Alice));
        second["message"]!.GetValue<string>().ShouldBe("code 2");
        var third = await mm.NextPostAsync();
        third["channel_id"]!.GetValue<string>().ShouldBe(mm.DirectChannelWith(Bob));
        mm.OpenAttempts.Select(a => (a.Users, a.Status)).ShouldBe([($"{FakeMattermost.BotId},{Alice}", 201), ($"{FakeMattermost.BotId},{Bob}", 201)]);
    }

    [Fact]
    public async Task DirectMessage_OpenRefused_ReturnsFalse_AndPostsNothingAnywhere()
    {
        await using var mm = await FakeMattermost.StartAsync();
        mm.RefuseOpen = true;
        await using var robot = await StartRobotAsync(mm);
        var sender = new ChatAdapterReplySender(robot.Adapter);

        (await sender.SendDirectAsync("mattermost", new ChatUser(Alice, "alice"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();
        (await sender.SendDirectAsync("mattermost", new ChatUser("Not-An-Id", "x"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();

        (await mm.NoPostWithinAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        mm.OpenAttempts.Select(a => a.Status).ShouldBe([403]);
        mm.DirectChannelWith(Alice).ShouldBeNull();
    }

    [Fact]
    public async Task DirectMessage_RateLimitedOpen_IsWaitedOut()
    {
        await using var mm = await FakeMattermost.StartAsync();
        mm.RateLimitOpenNext = 1;
        await using var robot = await StartRobotAsync(mm);

        (await new ChatAdapterReplySender(robot.Adapter).SendDirectAsync("mattermost", new ChatUser(Alice, "alice"), new OutgoingMessage("code 654321"), CancellationToken.None)).ShouldBeTrue();

        (await mm.NextPostAsync())["channel_id"]!.GetValue<string>().ShouldBe(mm.DirectChannelWith(Alice));
        var attempts = mm.OpenAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 201]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9));
        (await mm.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    /// <summary>The adapter, and (for buttons) OpsRobot's action endpoint on its own Kestrel port, mapped as the host maps it.</summary>
    /// <summary>
    /// The Mattermost adapter against <paramref name="mm"/>; <paramref name="withActions"/> also serves its integration URL
    /// (the robot's <see cref="RunningAdapter{TAdapter}.EndpointUrl"/>), which Mattermost posts button presses to.
    /// </summary>
    private static async Task<RunningAdapter<MattermostAdapter>> StartRobotAsync(FakeMattermost mm, bool withActions = false, string token = FakeMattermost.Token, bool waitConnected = true)
    {
        var robot = await RunningAdapter<MattermostAdapter>.StartAsync(
            (services, actionUrl) =>
            {
                var options = new MattermostOptions
                {
                    Enabled = true,
                    ServerUrl = mm.ServerUrl,
                    Token = token,
                    ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
                    ReconnectMaxDelay = TimeSpan.FromSeconds(30),
                    MessageDelay = TimeSpan.Zero,
                    ActionUrl = actionUrl,
                };
                options.Validate();
                return new MattermostAdapter(Options.Create(options), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<MattermostAdapter>>());
            },
            MattermostOptions.ActionPath,
            withActions ? PressedAsync : null);
        if (waitConnected)
        {
            await mm.WaitConnectedAsync();
            await robot.WaitReadyAsync();
        }

        return robot;
    }

    private static async Task<IResult> PressedAsync(MattermostAdapter adapter, HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var (status, json) = adapter.HandleAction(await reader.ReadToEndAsync());
        return Results.Content(json, "application/json", statusCode: status);
    }
}
