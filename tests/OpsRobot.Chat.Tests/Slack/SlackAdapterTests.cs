using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Slack;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Status;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Slack;

/// <summary>The Slack adapter against <see cref="FakeSlack"/>, which speaks Socket Mode and the Web API as documented.</summary>
public sealed class SlackAdapterTests
{
    [Fact]
    public async Task PingInThread_IsAcked_AndAnsweredInThatThread()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);

        var envelope = await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!ping", "1700000001.000200", threadTs: "1700000000.000100"));

        (await slack.NextAckAsync()).ShouldBe(envelope);
        var post = await slack.NextPostAsync();
        post["channel"]!.GetValue<string>().ShouldBe("C0OPS");
        post["thread_ts"]!.GetValue<string>().ShouldBe("1700000000.000100");
        post["text"]!.GetValue<string>().ShouldBe("pong");
        post["blocks"]![0]!["text"]!["text"]!.GetValue<string>().ShouldBe("pong");
    }

    [Fact]
    public async Task Whoami_SenderIsTheImmutableUserId()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);

        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "D0DIRECT", "whoami", "1700000001.000300"));

        var text = (await slack.NextPostAsync())["text"]!.GetValue<string>();
        text.ShouldContain("`U0ALICE`");
        text.ShouldContain("`slack`");
        text.ShouldContain("user-u0alice");
    }

    [Fact]
    public async Task MentionArrivingAsMessageAndAppMention_IsAnsweredOnce_OwnAndEditedMessagesIgnored()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);

        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", $"<@{FakeSlack.BotUserId}> echo once", "1700000002.000100"));
        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", $"<@{FakeSlack.BotUserId}> echo once", "1700000002.000100", type: "app_mention"));
        await slack.SendEventAsync(FakeSlack.Message(FakeSlack.BotUserId, "C0OPS", "!echo from myself", "1700000002.000200"));
        var edited = FakeSlack.Message("U0ALICE", "C0OPS", "!echo edited", "1700000002.000300");
        edited["subtype"] = "message_changed";
        await slack.SendEventAsync(edited);
        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!echo last &lt;b&gt;", "1700000002.000400"));

        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("once");
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("last &lt;b&gt;");
    }

    [Fact]
    public async Task ButtonPress_RoundTrips_AsTheCommandFromThePressingUser()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);

        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!deploy 12", "1700000003.000100", threadTs: "1700000003.000050"));
        var question = await slack.NextPostAsync();
        var actions = question["blocks"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "actions")!["elements"]!.AsArray();
        actions.Select(a => a!["value"]!.GetValue<string>()).ShouldBe(["!approve 12", "!deny 12"]);
        question["thread_ts"]!.GetValue<string>().ShouldBe("1700000003.000050");

        var envelope = await slack.PressAsync("U0BOB", "C0OPS", question, actions[0]!);

        (await slack.NextAckAsync()).ShouldNotBeNull();
        var answer = await slack.NextPostAsync();
        answer["text"]!.GetValue<string>().ShouldBe("approved 12 by U0BOB on slack");
        answer["channel"]!.GetValue<string>().ShouldBe("C0OPS");
        answer["thread_ts"]!.GetValue<string>().ShouldBe("1700000003.000050");
        envelope.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task DisconnectMidStream_LosesNothing_DuplicatesNothing()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);
        var adapter = robot.Adapter;

        // "one" is handled but its acknowledgement is lost with the connection: Slack delivers it again.
        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!echo one", "1700000004.000100"), loseAck: true);
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("one");
        slack.RefuseConnections = true;
        slack.Drop();

        // While the robot is away, a later message (an execution's result) is queued, not lost.
        await AdapterHarness.WaitUntilAsync(() => adapter.State != ChatAdapterState.Ready);
        var sender = new ChatAdapterReplySender(adapter);
        (await sender.SendAsync("slack", new ChatRoom("C0OPS", "C0OPS", false), new OutgoingMessage("said while away"), CancellationToken.None)).ShouldBeTrue();
        (await slack.NoPostWithinAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        slack.RefuseConnections = false;

        await slack.WaitConnectedAsync();
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("said while away");
        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!echo two", "1700000004.000200"));
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("two");
        slack.Connections.ShouldBe(2);
    }

    [Fact]
    public async Task RefreshRequested_ReconnectsAtOnce_AndKeepsAnswering()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack, reconnectMin: TimeSpan.FromSeconds(20));
        var adapter = robot.Adapter;

        await slack.DisconnectAsync("refresh_requested");
        await AdapterHarness.WaitUntilAsync(() => slack.Connections == 2);
        await slack.WaitConnectedAsync();
        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!ping", "1700000005.000100"));

        // A reconnect the server asked for is not a failure: no 20-second backoff before it.
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("pong");
        adapter.FailedAttempts.ShouldBe(0);
    }

    [Fact]
    public async Task RateLimited_WaitsRetryAfter_ThenPostsOnce()
    {
        await using var slack = await FakeSlack.StartAsync();
        slack.RateLimitNext = 1;
        slack.RetryAfterSeconds = 2;
        await using var robot = await StartAsync(slack);

        await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!ping", "1700000006.000100"));

        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("pong");
        var attempts = slack.PostAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 200]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9));
        (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    [Fact]
    public async Task Status_NamesWorkspaceAndBot_NeverTokens()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);
        var adapter = robot.Adapter;
        await AdapterHarness.WaitUntilAsync(() => adapter.State == ChatAdapterState.Ready);

        var status = await new ChatAdapterStatus(adapter).GetStatusAsync(CancellationToken.None);

        status.Component.ShouldBe("chat:slack");
        status.State.ShouldBe(HealthState.Healthy);
        status.Detail.ShouldContain(FakeSlack.BotUserId);
        status.Detail.ShouldNotContain("secret");
    }

    [Theory]
    [InlineData(0, "v0=", SlackSignatureVerdict.Valid, "a fresh, correctly signed request")]
    [InlineData(-301, "v0=", SlackSignatureVerdict.Stale, "older than five minutes: a replay")]
    [InlineData(301, "v0=", SlackSignatureVerdict.Stale, "from the future")]
    [InlineData(0, "tampered", SlackSignatureVerdict.Mismatch, "body changed after signing")]
    [InlineData(0, "missing", SlackSignatureVerdict.Missing, "no signature header")]
    public void SignatureVerifier_ChecksHmacAndWindow(int offsetSeconds, string variant, SlackSignatureVerdict expected, string what)
    {
        var time = new TestTimeProvider();
        var body = Encoding.UTF8.GetBytes("token=x&team_id=T1&command=%2Fopsrobot&text=ping");
        var timestamp = time.GetUtcNow().AddSeconds(offsetSeconds).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signature = SlackRequestVerifier.Sign("8f742231b10e8888abcd99yyyzzz85a5", timestamp, body);
        var verifier = new SlackRequestVerifier("8f742231b10e8888abcd99yyyzzz85a5", time);

        var verdict = variant switch
        {
            "tampered" => verifier.Verify(timestamp, signature, Encoding.UTF8.GetBytes("token=x&team_id=T1&command=%2Fopsrobot&text=rm")),
            "missing" => verifier.Verify(timestamp, null, body),
            _ => verifier.Verify(timestamp, signature, body),
        };

        verdict.ShouldBe(expected, what);
    }

    [Theory]
    [InlineData("<@UBOT0001> ping", "@opsrobot ping", "the bot's own mention addresses the robot")]
    [InlineData("hi <@U0BOB|bob> see <#C0OPS|ops> and <https://x.test/?a=1&amp;b=2|link>", "hi @bob see #ops and https://x.test/?a=1&b=2", "mentions, channels and links unwrapped")]
    [InlineData("&lt;@UBOT0001&gt; ping", "<@UBOT0001> ping", "escaped markup typed by a person stays text")]
    public void IncomingText_IsUnwrapped(string slack, string expected, string what)
    {
        SlackText.ToPlain(slack, FakeSlack.BotUserId, "opsrobot").ShouldBe(expected, what);
    }

    [Theory]
    [InlineData("OpsRobot:Chat:Slack:AppToken", "xoxb-wrong-kind", "AppToken")]
    [InlineData("OpsRobot:Chat:Slack:BotToken", null, "BotToken")]
    [InlineData("OpsRobot:Chat:Slack:MessageBurst", "0", "MessageBurst")]
    [InlineData("OpsRobot:Chat:Slack:ApiBaseUrl", "ftp://x/", "ApiBaseUrl")]
    public void Configuration_Invalid_NamesTheKey(string key, string? value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:Slack:Enabled"] = "true",
            ["OpsRobot:Chat:Slack:AppToken"] = FakeSlack.AppToken,
            ["OpsRobot:Chat:Slack:BotToken"] = FakeSlack.BotToken,
        };
        settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var ex = Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddOpsRobotSlack(configuration));

        ex.Message.ShouldContain(named);
        ex.Message.ShouldNotContain("secret");
    }

    [Fact]
    public async Task DirectMessage_OpensTheUsersConversation_InQueueOrder_AndReusesItsId()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack);
        var sender = new ChatAdapterReplySender(robot.Adapter);

        // Queued behind a room post: the direct message keeps its place in the queue.
        (await sender.SendAsync("slack", new ChatRoom("C0OPS", "C0OPS", false), new OutgoingMessage("room first") { ThreadId = "1700000000.000100" }, CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 1") { ThreadId = "1700000000.000100" }, CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 2"), CancellationToken.None)).ShouldBeTrue();
        (await sender.SendDirectAsync("slack", new ChatUser("U0BOB", "bob"), new OutgoingMessage("code 3"), CancellationToken.None)).ShouldBeTrue();

        (await slack.NextPostAsync())["channel"]!.GetValue<string>().ShouldBe("C0OPS");
        var first = await slack.NextPostAsync();
        first["channel"]!.GetValue<string>().ShouldBe(slack.DirectChannels["U0ALICE"]);
        first["text"]!.GetValue<string>().ShouldBe("code 1");
        first["thread_ts"].ShouldBeNull("a direct message never goes into the room's thread");
        var second = await slack.NextPostAsync();
        second["channel"]!.GetValue<string>().ShouldBe(slack.DirectChannels["U0ALICE"]);
        second["text"]!.GetValue<string>().ShouldBe("code 2");
        var third = await slack.NextPostAsync();
        third["channel"]!.GetValue<string>().ShouldBe(slack.DirectChannels["U0BOB"]);
        third["text"]!.GetValue<string>().ShouldBe("code 3");
        slack.DirectChannels["U0BOB"].ShouldNotBe(slack.DirectChannels["U0ALICE"]);
        slack.OpenAttempts.Select(a => a.Users).ShouldBe(["U0ALICE", "U0BOB"], "Alice's conversation id is remembered, not opened twice");
    }

    [Theory]
    [InlineData("user_not_found")]
    [InlineData("missing_scope")]
    public async Task DirectMessage_OpenRefused_ReturnsFalse_AndPostsNothingAnywhere(string error)
    {
        await using var slack = await FakeSlack.StartAsync();
        slack.RefuseOpen = error;
        await using var robot = await StartAsync(slack);
        var sender = new ChatAdapterReplySender(robot.Adapter);

        (await sender.SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();
        (await sender.SendDirectAsync("slack", new ChatUser("not-a-user", "x"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();
        (await sender.SendDirectAsync("mattermost", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 123456"), CancellationToken.None)).ShouldBeFalse();

        (await slack.NoPostWithinAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        slack.OpenAttempts.Count.ShouldBe(1, "an id that is not a Slack user id is refused before any call");

        // The queue goes on: a later room post is not stuck behind the refused direct message.
        (await sender.SendAsync("slack", new ChatRoom("C0OPS", "C0OPS", false), new OutgoingMessage("still here"), CancellationToken.None)).ShouldBeTrue();
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("still here");
    }

    [Fact]
    public async Task DirectMessage_RateLimitedOpen_IsWaitedOut()
    {
        await using var slack = await FakeSlack.StartAsync();
        slack.RateLimitOpenNext = 1;
        slack.RetryAfterSeconds = 2;
        await using var robot = await StartAsync(slack);

        (await new ChatAdapterReplySender(robot.Adapter).SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 654321"), CancellationToken.None)).ShouldBeTrue();

        var post = await slack.NextPostAsync();
        post["channel"]!.GetValue<string>().ShouldBe(slack.DirectChannels["U0ALICE"]);
        var attempts = slack.OpenAttempts.ToList();
        attempts.Select(a => a.Status).ShouldBe([429, 200]);
        (attempts[1].At - attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9));
        (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    [Fact]
    public async Task DirectMessage_WhileDisconnectedPastTheTimeout_ReturnsFalse_AndIsNeverSentLate()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack, directTimeout: TimeSpan.FromSeconds(1));
        var adapter = robot.Adapter;

        // Ready first (the hello was read), so that "not ready" below means the session is over, not yet to begin.
        await AdapterHarness.WaitUntilAsync(() => adapter.State == ChatAdapterState.Ready);
        slack.RefuseConnections = true;
        slack.Drop();
        await AdapterHarness.WaitUntilAsync(() => adapter.State != ChatAdapterState.Ready);

        (await new ChatAdapterReplySender(adapter).SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 111111"), CancellationToken.None)).ShouldBeFalse();
        slack.RefuseConnections = false;
        await slack.WaitConnectedAsync();

        // The send loop, back, finds the withdrawn message and drops it without a call.
        await AdapterHarness.WaitUntilAsync(() => adapter.State == ChatAdapterState.Ready && adapter.QueuedPosts == 0);
        (await slack.NoPostWithinAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        slack.OpenAttempts.ShouldBeEmpty();
    }

    [Fact]
    public async Task DirectMessage_DroppedFromAFullQueue_ReturnsFalseAtOnce_AndIsNeverSent()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await StartAsync(slack, maxQueued: 1);
        var adapter = robot.Adapter;

        // Ready first (the hello was read), so that "not ready" below means the session is over, not yet to begin.
        await AdapterHarness.WaitUntilAsync(() => adapter.State == ChatAdapterState.Ready);
        slack.RefuseConnections = true;
        slack.Drop();
        await AdapterHarness.WaitUntilAsync(() => adapter.State != ChatAdapterState.Ready);
        var sender = new ChatAdapterReplySender(adapter);

        var direct = sender.SendDirectAsync("slack", new ChatUser("U0ALICE", "alice"), new OutgoingMessage("code 222222"), CancellationToken.None);
        await AdapterHarness.WaitUntilAsync(() => adapter.QueuedPosts == 1);
        (await sender.SendAsync("slack", new ChatRoom("C0OPS", "C0OPS", false), new OutgoingMessage("newer"), CancellationToken.None)).ShouldBeTrue();

        (await direct.WaitAsync(TimeSpan.FromSeconds(10))).ShouldBeFalse("the queue made room by dropping it");
        slack.RefuseConnections = false;
        await slack.WaitConnectedAsync();
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("newer");
        (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
        slack.OpenAttempts.ShouldBeEmpty();
    }

    /// <summary>The Socket Mode adapter against <paramref name="slack"/>, running, once Slack has had its connection.</summary>
    private static async Task<RunningAdapter<SlackAdapter>> StartAsync(FakeSlack slack, TimeSpan? reconnectMin = null, TimeSpan? directTimeout = null, int maxQueued = 1000)
    {
        var robot = await RunningAdapter<SlackAdapter>.StartAsync((services, _) => Create(slack, services, reconnectMin, directTimeout, maxQueued));
        await slack.WaitConnectedAsync();
        return robot;
    }

    private static SlackAdapter Create(FakeSlack slack, ServiceProvider services, TimeSpan? reconnectMin, TimeSpan? directTimeout, int maxQueued)
    {
        var options = new SlackOptions
        {
            Enabled = true,
            AppToken = FakeSlack.AppToken,
            BotToken = FakeSlack.BotToken,
            ApiBaseUrl = slack.ApiBase,
            ReconnectMinDelay = reconnectMin ?? TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(30),
            MessageDelay = TimeSpan.Zero,
            MaxQueuedMessages = maxQueued,
        };
        if (directTimeout is { } timeout)
        {
            options.DirectMessageTimeout = timeout;
        }

        options.Validate();
        return new SlackAdapter(Options.Create(options), services.GetRequiredService<IOptions<RobotOptions>>(), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<SlackAdapter>>());
    }
}
