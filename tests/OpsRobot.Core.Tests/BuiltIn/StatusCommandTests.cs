using System.Globalization;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.BuiltIn;

public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_AfterTwoHoursFiveMinutes_ShowsUptimeFromTheInjectedClock()
    {
        var robot = new TestRobot();
        robot.Time.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(5));

        var reply = await robot.SayAsync("!status");

        reply.ShouldBe("OpsRobot 1.2.3-test: **healthy**, up 2h 5m (since 2026-11-21 09:00:00 UTC).");
    }

    [Fact]
    public async Task Status_WithSources_ShowsEachSourceLineAndTheWorstState()
    {
        var catalog = new PackCatalog(new PackLoader(
            new OpsRobot.Core.Actions.RunnerCatalog([new Support.NamedRunner("shell"), new Support.NamedRunner("http"), new Support.NamedRunner("noop"), new Support.NamedRunner("echo"),
                new Support.NamedRunner("ssh"), new Support.NamedRunner("ssh-trust"), new Support.NamedRunner("deploy"), new Support.NamedRunner("nagios"), new Support.NamedRunner("inquiry")]),
            new OpsRobot.Core.Templates.TemplateRenderer()));
        catalog.Load(RepoPaths.Packs);
        IStatusSource[] sources =
        [
            catalog,
            new FixedStatusSource("store", HealthState.Degraded, "sqlite, slow disk"),
            new FixedStatusSource("chat:web", HealthState.Healthy, "3 connected"),
        ];
        var robot = new TestRobot(sources: sources);

        var reply = await robot.SayAsync("!status");

        reply.ShouldNotBeNull();
        reply.ShouldStartWith("OpsRobot 1.2.3-test: **degraded**, up 0m 0s");
        reply.ShouldContain("| component | state | detail |");
        reply.Split('\n').Single(l => l.StartsWith("| packs |", StringComparison.Ordinal))
            .ShouldBe("| packs | healthy | 7 loaded (alerts 0.1.0, cmdb 0.1.0, core 0.1.0, deploy 0.1.0, examples 0.1.0, nagios 0.1.0, ssh 0.1.0), 24 action(s), 20 alias(es) |");
        reply.ShouldContain("| store | degraded | sqlite, slow disk |");
        reply.ShouldContain("| chat:web | healthy | 3 connected |");
    }

    [Fact]
    public async Task Status_OneSourceUnhealthy_HeadlineSaysUnhealthy()
    {
        IStatusSource[] sources =
        [
            new FixedStatusSource("store", HealthState.Unhealthy, "cannot open the file"),
            new FixedStatusSource("packs", HealthState.Degraded, "1 error"),
        ];
        var robot = new TestRobot(sources: sources);

        var reply = await robot.SayAsync("!status");

        reply.ShouldNotBeNull().ShouldStartWith("OpsRobot 1.2.3-test: **unhealthy**,");
    }

    [Fact]
    public async Task Status_SourceDetailWithPipe_DoesNotBendTheTable()
    {
        IStatusSource[] sources = [new FixedStatusSource("store", HealthState.Healthy, "a | b")];
        var robot = new TestRobot(sources: sources);

        var reply = await robot.SayAsync("!status");

        reply.ShouldNotBeNull().ShouldContain("| store | healthy | a \\| b |");
    }

    [Theory]
    [InlineData("just started", "00:00:00", "0m 0s")]
    [InlineData("seconds", "00:00:42", "0m 42s")]
    [InlineData("just under an hour", "00:59:59", "59m 59s")]
    [InlineData("one hour", "01:00:00", "1h 0m")]
    [InlineData("hours and minutes", "02:05:00", "2h 5m")]
    [InlineData("seconds are dropped once past an hour", "02:05:59", "2h 5m")]
    [InlineData("just under a day", "23:59:59", "23h 59m")]
    [InlineData("one day", "1.00:00:00", "1d 0h 0m")]
    [InlineData("many days", "400.03:07:00", "400d 3h 7m")]
    [InlineData("clock went backwards", "-00:05:00", "0m 0s")]
    public void FormatUptime_Durations_ReadAsPeopleWriteThem(string row, string uptime, string expected)
    {
        var text = StatusCommand.FormatUptime(TimeSpan.Parse(uptime, CultureInfo.InvariantCulture));

        text.ShouldBe(expected, row);
    }
}
