using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

public sealed class NagiosCardsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static NagiosStatus Status(DateTimeOffset? written = null) => new(
        written ?? Now.AddSeconds(-3),
        [new NagiosHostStatus("web01") { HasBeenChecked = true, State = 0, Output = "OK", LastCheck = Now.AddSeconds(-30) },
         new NagiosHostStatus("db01") { HasBeenChecked = true, State = 1, IsHardState = true, Output = "PING CRITICAL", LastStateChange = Now.AddMinutes(-5) }],
        [new NagiosServiceStatus("web01", "disk") { HasBeenChecked = true, State = 2, IsHardState = true, Output = "DISK | `rm -rf` @here **bold**", Acknowledged = true, DowntimeDepth = 1, LastCheck = Now.AddSeconds(-12), LastStateChange = Now.AddMinutes(-90) },
         new NagiosServiceStatus("web01", "load") { HasBeenChecked = true, State = 1, IsHardState = false, Output = "load 5" },
         new NagiosServiceStatus("web01", "http") { HasBeenChecked = true, State = 0, Output = "HTTP OK" }],
        [new NagiosDowntime(4, "web01", "disk") { Start = Now.AddMinutes(-10), End = Now.AddHours(1), InEffect = true, Author = "bob", Comment = "swap" }],
        [new NagiosComment(9, "web01", "disk") { Kind = NagiosCommentKind.Acknowledgement, Author = "alice", Text = "looking" }]);

    [Fact]
    public void Problems_WorstFirst_WithWhoHandledThem()
    {
        var (text, count) = new NagiosCards(new NagiosOptions(), Now).Problems(Status());

        count.ShouldBe(3);
        var lines = text.Split('\n');
        lines[0].ShouldBe("**3 problems** in Nagios, 2 not acknowledged nor in downtime:");
        var rows = lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Skip(2).ToList(); // after the header and its separator
        rows[0].ShouldStartWith("| db01 | DOWN |");
        rows[1].ShouldStartWith("| web01/disk | CRITICAL |");
        rows[1].ShouldContain("acked by alice, in downtime");
        rows[2].ShouldStartWith("| web01/load | WARNING (soft) |");
    }

    [Fact]
    public void Service_PluginOutput_StaysInsideACodeSpanAndTheTableCell()
    {
        var text = new NagiosCards(new NagiosOptions(), Now).Service(Status(), Status().FindService("web01", "disk")!);

        text.ShouldStartWith("**web01/disk** is CRITICAL for 1h30m: ``DISK | `rm -rf` @here **bold**``");
        text.ShouldContain("Last check: 2027-01-15 07:59:48 UTC (12s ago) · acknowledged by alice: `looking` · in downtime #4 until 2027-01-15 09:00:00 UTC (bob)");

        var (problems, _) = new NagiosCards(new NagiosOptions(), Now).Problems(Status());
        problems.Split('\n').Single(l => l.StartsWith("| web01/disk", StringComparison.Ordinal)).Split(" | ").Length.ShouldBe(5, "a '|' in plugin output must not add a column");
    }

    [Fact]
    public void Host_ListsServicesAndDowntimesAndLinksToNagios()
    {
        var text = new NagiosCards(new NagiosOptions { WebUrl = "https://nagios.example/nagios4/" }, Now).Host(Status(), Status().FindHost("web01")!);

        text.ShouldContain("| service | state | output | last check | handled |");
        text.IndexOf("| disk |", StringComparison.Ordinal).ShouldBeLessThan(text.IndexOf("| load |", StringComparison.Ordinal));
        text.ShouldContain("- #4 disk: 2027-01-15 07:50:00 UTC to 2027-01-15 09:00:00 UTC (in effect), bob: `swap`");
        text.ShouldEndWith("https://nagios.example/nagios4/cgi-bin/extinfo.cgi?type=1&host=web01");
    }

    [Fact]
    public void Overview_OldStatus_WarnsThatNagiosMayBeDown()
    {
        var text = new NagiosCards(new NagiosOptions(), Now).Overview(Status(written: Now.AddMinutes(-20)));

        text.ShouldStartWith("**Nagios**: 2 hosts, 3 services, 1 hosts down or unreachable, 2 service problems.");
        text.ShouldContain("Nagios wrote this status 20m ago: is Nagios running?");
    }

    [Fact]
    public void Problems_MoreThanListed_CountsTheRest()
    {
        var (text, _) = new NagiosCards(new NagiosOptions { MaxListed = 1 }, Now).Problems(Status());

        text.ShouldEndWith("…and 2 more.");
    }

    [Theory]
    [InlineData(null, "needs an immutable string parameter 'operation'")]
    [InlineData("reboot", "Unknown nagios operation 'reboot'")]
    public void Validate_ActionWithoutAKnownOperation_SaysWhatIsWrong(string? operation, string expected)
    {
        var runner = new NagiosRunner(null!, new FixedOptions<NagiosOptions>(new NagiosOptions()), TimeProvider.System, null!);
        var action = new ActionDefinition("nagios", "x", "nagios")
        {
            Parameters = operation is null ? [] : [new ParameterDefinition("operation", ParameterType.String) { Immutable = true, Default = JsonValue.Create(operation) }],
        };

        runner.Validate(action).ShouldHaveSingleItem().ShouldContain(expected);
    }
}
