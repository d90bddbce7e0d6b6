using OpsRobot.Core.Alerts;
using OpsRobot.Storage.Tests.Sqlite;

namespace OpsRobot.Storage.Tests.Alerts;

/// <summary>The board, grouping, flapping and the rate limit: what a room hears, and that the board keeps everything.</summary>
public sealed class AlertBoardTests
{
    [Fact]
    public async Task Firing_ResentWithNoChange_PostsOnceAndCountsTheEvents()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("HighLatency", summary: "p99 above 2s");
        await world.SettleRoomsAsync();
        await world.AlertAsync("HighLatency", summary: "p99 above 2s");
        await world.AlertAsync("HighLatency", summary: "p99 above 2s");
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(1);
        posted[0].ShouldContain("A1 FIRING");
        posted[0].ShouldContain("[critical]");
        posted[0].ShouldContain("`HighLatency` on `web1:9100`");
        posted[0].ShouldContain("p99 above 2s");
        var alert = (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull();
        alert.Events.ShouldBe(3);
        alert.Status.ShouldBe(AlertStatus.Firing);
    }

    [Fact]
    public async Task AnAlertEventWhosePayloadCannotBeRead_IsSkipped_AndTheAlertsAfterItReachTheBoard()
    {
        await using var world = await AlertWorld.StartAsync();
        var broken = await world.AlertAsync("DiskFull");
        await world.AlertAsync("HighLatency");
        await using (var connection = await world.Database.OpenAsync(CancellationToken.None))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE events SET payload = '{{\"labels\": ' WHERE id = {broken.Id}";
            (await command.ExecuteNonQueryAsync(CancellationToken.None)).ShouldBe(1);
        }

        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts").ShouldHaveSingleItem();
        posted.ShouldContain("HighLatency");
        posted.ShouldNotContain("DiskFull");
        (await world.Store.GetCursorAsync(CancellationToken.None)).ShouldBeGreaterThan(broken.Id);
    }

    [Fact]
    public async Task SeveralAlertsArrivingTogether_ArePostedAsOneGroupedMessage()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("DiskFull", host: "db1");
        await world.AlertAsync("DiskFull", host: "db2");
        await world.AlertAsync("LoadHigh", host: "db1", severity: "warning");
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts").ShouldHaveSingleItem();
        posted.ShouldStartWith("3 alert updates:");
        posted.ShouldContain("A1 FIRING");
        posted.ShouldContain("A2 FIRING");
        posted.ShouldContain("A3 FIRING** [warning]");
    }

    [Fact]
    public async Task NothingPosted_BeforeTheGatheringWindowEnds()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("DiskFull");
        await world.Service.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow / 2);
        await world.Service.RunOnceAsync(CancellationToken.None);

        world.Chat.Sent.ShouldBeEmpty();
        (await world.Store.CountAsync(CancellationToken.None)).ShouldBe((1, 1));
    }

    [Fact]
    public async Task Resolved_SaysHowLongItFired()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("DiskFull");
        await world.SettleRoomsAsync();
        world.Time.Advance(TimeSpan.FromMinutes(12));
        await world.AlertAsync("DiskFull", status: "resolved");
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(2);
        posted[1].ShouldContain("A1 RESOLVED");
        posted[1].ShouldContain("fired for 12m");
        (await world.Store.CountAsync(CancellationToken.None)).ShouldBe((1, 0));
    }

    // Alertmanager sends when the alert began; one that fired 40 minutes before it reached OpsRobot has fired for 40
    // minutes, and its resolution counts to the source's end time, not to when the webhook arrived.
    [Fact]
    public async Task SourceTimes_AreWhenTheStateBegan_NotWhenItArrived()
    {
        await using var world = await AlertWorld.StartAsync();
        var began = world.Time.GetUtcNow() - TimeSpan.FromMinutes(40);
        await world.AlertAsync("DiskFull", "firing", "web1:9100", "critical", null, p => p["starts_at"] = began.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await world.SettleRoomsAsync();
        world.Time.Advance(TimeSpan.FromMinutes(5));
        var ended = world.Time.GetUtcNow() - TimeSpan.FromMinutes(2);
        await world.AlertAsync("DiskFull", "resolved", "web1:9100", "critical", null, p => p["ends_at"] = ended.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(2);
        posted[0].ShouldContain($"since {began.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        posted[1].ShouldContain("A1 RESOLVED");
        posted[1].ShouldContain("fired for 43m");
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().Since.ShouldBe(ended);
    }

    [Fact]
    public async Task FiredAndResolvedWithinOneWindow_TheRoomHearsTheLatestOnce()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("Blip");
        await world.Service.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(TimeSpan.FromSeconds(2));
        await world.AlertAsync("Blip", status: "resolved");
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts").ShouldHaveSingleItem();
        posted.ShouldContain("A1 RESOLVED");
        posted.ShouldNotContain("FIRING");
    }

    [Fact]
    public async Task Flapping_IsPostedOnce_HeldWhileItFlaps_ThenSettledWithItsState()
    {
        await using var world = await AlertWorld.StartAsync(o =>
        {
            o.FlapThreshold = 4;
            o.FlapWindow = TimeSpan.FromMinutes(10);
            o.SettleAfter = TimeSpan.FromMinutes(10);
        });

        // fire, resolve, fire, resolve (4 changes after the first firing: the 4th change trips the threshold), then 10 more.
        await world.AlertAsync("Flappy");
        await world.SettleRoomsAsync();
        for (var i = 0; i < 14; i++)
        {
            world.Time.Advance(TimeSpan.FromSeconds(30));
            await world.AlertAsync("Flappy", status: i % 2 == 0 ? "resolved" : "firing");
            await world.SettleRoomsAsync();
        }

        var posted = world.Chat.To("irc:#alerts");
        posted.Count(p => p.Contains("FLAPPING", StringComparison.Ordinal)).ShouldBe(1);
        posted.Count.ShouldBeLessThanOrEqualTo(5, string.Join("\n", posted));
        var held = posted.Count;
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().Flapping.ShouldBeTrue();

        // Quiet for the settle time: one message says where it stands.
        world.Time.Advance(TimeSpan.FromMinutes(11));
        await world.SettleRoomsAsync();
        world.Time.Advance(TimeSpan.FromSeconds(6));
        await world.SettleRoomsAsync();

        posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(held + 1);
        posted[^1].ShouldContain("A1 SETTLED");
        posted[^1].ShouldContain("stopped flapping: firing since");
        var alert = (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull();
        alert.Flapping.ShouldBeFalse();
        alert.Flaps.ShouldBe(14);
        alert.Events.ShouldBe(15);
    }

    [Fact]
    public async Task Storm_RoomGetsBoundedMessagesWithASummary_BoardHasEveryAlert()
    {
        await using var world = await AlertWorld.StartAsync(o =>
        {
            o.RoomRateLimit = 3;
            o.RoomRatePeriod = TimeSpan.FromMinutes(1);
            o.MaxAlertsPerMessage = 5;
        });

        for (var i = 0; i < 200; i++)
        {
            await world.AlertAsync($"Storm{i}");
            if (i % 20 == 19)
            {
                await world.SettleRoomsAsync();
            }
        }

        await world.SettleRoomsAsync();
        var posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(3);
        posted[0].ShouldContain("more alerts firing, see `!alerts`");
        (await world.Store.CountAsync(CancellationToken.None)).ShouldBe((200, 200));

        // When the period has passed, what waited is summarised in one message.
        world.Time.Advance(TimeSpan.FromMinutes(1));
        await world.SettleRoomsAsync();
        posted = world.Chat.To("irc:#alerts");
        posted.Count.ShouldBe(4);
        posted[3].ShouldContain("more alerts firing, see `!alerts`");
    }

    [Fact]
    public async Task NoticesWaitingForTheirMessage_WhenOpsRobotStops_AreSentAfterTheRestart_Once()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("DiskFull", host: "db1:9100");
        await world.AlertAsync("HighLoad", host: "db1:9100");
        await world.Service.RunOnceAsync(CancellationToken.None);
        world.Chat.Sent.ShouldBeEmpty(); // gathered for the window: OpsRobot stops here (kill -9: nothing else runs)

        var restarted = world.Restart();
        await restarted.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await restarted.RunOnceAsync(CancellationToken.None);

        var posted = world.Chat.To("irc:#alerts").ShouldHaveSingleItem();
        posted.ShouldContain("DiskFull");
        posted.ShouldContain("HighLoad");
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldBeEmpty();

        // Told: a further restart says nothing again.
        var third = world.Restart();
        await third.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await third.RunOnceAsync(CancellationToken.None);
        world.Chat.To("irc:#alerts").Count.ShouldBe(1);
    }

    [Fact]
    public async Task AStoredNoticeOfAKindThisVersionDoesNotKnow_IsNotToldAndIsRemoved()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("DiskFull");
        await world.Service.RunOnceAsync(CancellationToken.None);
        await SqliteTestDatabase.ScalarAsync(world.Database, "INSERT INTO alert_notices (alert_id, kind, fired_for_ms, created_at) VALUES (1, 'FromTheFuture', NULL, 0)");

        var stored = await world.Store.ListNoticesAsync(CancellationToken.None);

        stored.ShouldHaveSingleItem().Kind.ShouldBe(AlertNoticeKind.Firing);
        (await SqliteTestDatabase.ScalarAsync(world.Database, "SELECT COUNT(*) FROM alert_notices")).ShouldBe(1L);
    }

    [Fact]
    public async Task ANoticeIsKept_UntilEveryRoomItGoesToWasSentIt()
    {
        await using var world = await AlertWorld.StartAsync(o =>
        {
            o.RoomRateLimit = 1;
            o.RoomRatePeriod = TimeSpan.FromMinutes(10);
        });
        await world.AlertAsync("First");
        await world.SettleRoomsAsync();
        await world.AlertAsync("Second");
        await world.SettleRoomsAsync(); // the room's rate is spent: Second waits

        world.Chat.To("irc:#alerts").Count.ShouldBe(1);
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem().Alert.Name.ShouldBe("Second");

        world.Time.Advance(TimeSpan.FromMinutes(10));
        await world.Service.RunOnceAsync(CancellationToken.None);
        world.Chat.To("irc:#alerts").Count.ShouldBe(2);
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Board_AppliesEachEventOnce_AcrossARestart()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("Once");
        await world.Service.RunOnceAsync(CancellationToken.None);
        await world.AlertAsync("Once");

        // A second board over the same database (a restart) reads on from the stored cursor.
        var again = new AlertBoard(world.Store, world.Router, world.Time, Microsoft.Extensions.Options.Options.Create(world.Options));
        var (read, notices) = await again.ApplyNextAsync(CancellationToken.None);
        read.ShouldBe(1);
        notices.ShouldBeEmpty();
        (await again.ApplyNextAsync(CancellationToken.None)).Read.ShouldBe(0);
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().Events.ShouldBe(2);
    }

    [Fact]
    public async Task ResolutionOfAnAlertNeverSeenFiring_IsRecordedButNotPosted()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("Ghost", status: "resolved");
        await world.SettleRoomsAsync();

        world.Chat.Sent.ShouldBeEmpty();
        (await world.Store.CountAsync(CancellationToken.None)).ShouldBe((1, 0));
    }

    [Fact]
    public async Task HostileAlertText_CannotOpenMarkdownOrPing()
    {
        await using var world = await AlertWorld.StartAsync();
        await world.AlertAsync("Evil", summary: "[click](http://evil.example) @here **bold** `code`\nsecond line");
        await world.SettleRoomsAsync();

        var posted = world.Chat.To("irc:#alerts").ShouldHaveSingleItem();
        posted.ShouldContain("\\[click\\](http://evil.example) \\@here \\*\\*bold\\*\\* \\`code\\` second line");
        posted.ShouldNotContain("\n");
    }
}
