using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Alerts;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Storage.Tests.Alerts;

/// <summary>
/// <c>!alerts</c>, <c>!ack</c> and <c>!silence</c> through the real robot and access service: who may act on which
/// alert (grants and tree membership), what the source is told, what the room and the audit trail say.
/// </summary>
public sealed class AlertCommandTests
{
    private static async Task<(AlertWorld World, Robot Robot, RecordingSource Source)> StartAsync()
    {
        var world = await AlertWorld.StartAsync();
        await world.AddNodesAsync("corp", "corp/hotel", "corp/shop");
        await world.AlertAsync("ApiDown", labels: ("application", "corp/hotel"));
        await world.AlertAsync("CartSlow", host: "shop1", labels: ("application", "corp/shop"));
        await world.AlertAsync("Unowned", host: "misc1");
        await world.SettleRoomsAsync();
        var source = new RecordingSource("alertmanager");
        var wrapped = Options.Create(world.Options);
        var access = new AlertAccess(world.Access);
        IRobotCommand[] commands =
        [
            new AlertsCommand(world.Store, world.Time),
            new AckCommand(world.Store, access, [source], world.Time),
            new SilenceCommand(world.Store, access, [source], world.Time, wrapped),
        ];
        var robot = new Robot(new CommandRegistry(commands), Options.Create(new RobotOptions()), NullLogger<Robot>.Instance, access: world.Access);
        return (world, robot, source);
    }

    private static async Task<string> SayAsync(AlertWorld world, Robot robot, Principal who, string line)
    {
        var message = new IncomingMessage("web", new ChatRoom("1", "ops", false), new ChatUser(who.Name, who.Name), "!" + line, world.Time.GetUtcNow());
        return (await robot.DispatchAsync(message, line, who, sudo: false, CancellationToken.None)).ShouldNotBeNull().Text;
    }

    [Fact]
    public async Task Silence_ByAMemberOfTheAlertsNode_CallsTheSourceRecordsItAndSaysWhoDidWhat()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var alice = await world.UserAsync("alice", BuiltInRoles.Operator, "corp/hotel");

        var answer = await SayAsync(world, robot, alice, "silence A1 2h deploying a fix");

        answer.ShouldBe("alice silenced A1 `ApiDown` on `web1:9100` for 2h, until 2026-11-21 11:00 UTC (deploying a fix). alertmanager: done.");
        source.Calls.ShouldBe(["silence ApiDown for 120m by alice: deploying a fix"]);
        var alert = (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull();
        alert.SilencedBy.ShouldBe("alice");
        alert.SilenceId.ShouldBe("silence-1");
        alert.SilencedUntil.ShouldBe(world.Time.GetUtcNow().AddHours(2));
        var audit = await world.Audit.QueryAsync(new AuditQuery { Actor = "alice", Kind = AuditKinds.Command, Subject = "silence A1" }, CancellationToken.None);
        audit.ShouldContain(a => a.Decision == "allow" && a.Detail.Contains("\"answer\":\"done.\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Silence_ByAnOperatorOutsideTheNode_IsRefused_AndTheSourceIsNotCalled()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var bob = await world.UserAsync("bob", BuiltInRoles.Operator, "corp/shop");

        var answer = await SayAsync(world, robot, bob, "silence A1 1h");

        answer.ShouldContain("A1 belongs to `corp/hotel`, and you need membership of it");
        source.Calls.ShouldBeEmpty();
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().SilencedBy.ShouldBeNull();
        var audit = await world.Audit.QueryAsync(new AuditQuery { Actor = "bob", Kind = AuditKinds.Decision }, CancellationToken.None);
        audit.ShouldContain(a => a.Decision == "deny" && a.Rule!.Contains("not a member of corp/hotel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ack_ByAViewer_IsRefusedForWantOfTheGrant()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var carol = await world.UserAsync("carol", BuiltInRoles.Viewer, "corp/hotel");

        var answer = await SayAsync(world, robot, carol, "ack A1 on it");

        answer.ShouldContain("You need `alert.ack` on `corp/hotel`");
        source.Calls.ShouldBeEmpty();
    }

    [Fact]
    public async Task Ack_RecordsWhoAndWhy_AndAlertsShowsIt()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var alice = await world.UserAsync("alice", BuiltInRoles.Operator, "corp/hotel");

        var answer = await SayAsync(world, robot, alice, "ack a1 looking");
        var list = await SayAsync(world, robot, alice, "alerts");

        answer.ShouldBe("alice acknowledged A1 `ApiDown` on `web1:9100` (looking). alertmanager: done.");
        source.Calls.ShouldBe(["ack ApiDown by alice: looking"]);
        list.ShouldStartWith("3 alerts firing:");
        list.ShouldContain("**A1** [critical] `ApiDown` on `web1:9100` (corp/hotel): ApiDown is bad · firing for 5s · acked by alice");
    }

    [Fact]
    public async Task SourceRefuses_TheRoomHearsWhy_AndTheBoardIsUnchanged()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        source.Answer = new AlertCallbackResult(false, "Alertmanager answered 400 Bad Request: bad matcher.");
        var alice = await world.UserAsync("alice", BuiltInRoles.Operator, "corp/hotel");

        var answer = await SayAsync(world, robot, alice, "silence A1 30m");

        answer.ShouldBe("Could not silence A1 `ApiDown` at alertmanager: Alertmanager answered 400 Bad Request: bad matcher.");
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().SilencedBy.ShouldBeNull();
    }

    // A word that is not a duration is answered with the silence's own bounds, not the reader's general 3650d limit.
    [Fact]
    public async Task Silence_NotADuration_NamesOnlyTheSilencesBounds()
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var alice = await world.UserAsync("alice", BuiltInRoles.Operator, "corp");

        var answer = await SayAsync(world, robot, alice, "silence A1 forever");

        answer.ShouldContain("(at most 7d)");
        answer.ShouldContain("from 1m to 7d");
        answer.ShouldNotContain("3650d");
        source.Calls.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("silence A1", "Usage:")]                       // no duration
    [InlineData("silence A1 forever", "Usage:")]               // not a duration
    [InlineData("silence A1 forever", "`forever` is not a duration: write it like 90s")] // ...and says which word
    [InlineData("silence A1 30s", "from 1m to 7d")]            // too short
    [InlineData("silence A1 8d", "from 1m to 7d")]             // longer than MaxSilence
    [InlineData("silence A1 1h;rm -rf /", "Usage:")]           // junk glued to the duration
    [InlineData("silence B1 1h", "Usage:")]                    // not an alert id
    [InlineData("silence A99 1h", "There is no alert A99")]    // no such alert
    [InlineData("ack", "Usage:")]                              // nothing to ack
    public async Task BadArguments_AreAnsweredWithTheForm_AndNothingIsCalled(string line, string expected)
    {
        var (world, robot, source) = await StartAsync();
        await using var _ = world;
        var alice = await world.UserAsync("alice", BuiltInRoles.Operator, "corp");

        (await SayAsync(world, robot, alice, line)).ShouldContain(expected);
        source.Calls.ShouldBeEmpty();
    }

    [Fact]
    public async Task Alerts_ListsOnlyWhatTheAskerMaySee_AndFilters()
    {
        var (world, robot, _) = await StartAsync();
        await using var __ = world;
        var admin = new Principal { Name = "root", Roles = [BuiltInRoles.AdminRole], Door = Doors.Chat, IsAdministrator = true };
        var shopOnly = await world.Access.ForUserAsync(await world.Users.CreateAsync("dan", "dan", false, null, CancellationToken.None), Doors.Chat, "web:ops", CancellationToken.None);
        await world.Access.SaveRoleAsync(admin, new Role("shop-viewer", "Sees the shop's alerts", [new Grant("alert.view", ["corp/shop*"])], RoleOrigin.Store), CancellationToken.None);
        await world.Access.AssignRoleAsync(admin, "dan", "shop-viewer", CancellationToken.None);
        shopOnly = await world.Access.ForUserAsync(shopOnly.User!, Doors.Chat, "web:ops", CancellationToken.None);

        var mine = await SayAsync(world, robot, shopOnly, "alerts");
        var filtered = await SayAsync(world, robot, admin, "alerts corp/hotel");
        var byLabel = await SayAsync(world, robot, admin, "alerts alertname=Unowned");

        mine.ShouldStartWith("1 alert firing:");
        mine.ShouldContain("CartSlow");
        mine.ShouldNotContain("ApiDown");
        filtered.ShouldStartWith("1 alert firing matching `corp/hotel`:");
        byLabel.ShouldContain("**A3**");
    }

    [Theory]
    [InlineData("30m", 30)]
    [InlineData("2h", 120)]
    [InlineData("1d", 1440)]
    [InlineData("1h30m", 90)]
    [InlineData("1W", 10080)]
    public void Durations_AsPeopleTypeThem(string text, int minutes) =>
        DurationText.Parse(text).ShouldBe(TimeSpan.FromMinutes(minutes));

    [Theory]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("10")]
    [InlineData("-5m")]
    [InlineData("5x")]
    [InlineData("9999999m")]
    [InlineData("1h 30m")]
    public void Durations_ThatAreNot(string text) => DurationText.Parse(text).ShouldBeNull();
}
