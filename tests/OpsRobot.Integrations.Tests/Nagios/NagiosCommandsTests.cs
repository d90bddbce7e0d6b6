using OpsRobot.Integrations.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

public sealed class NagiosCommandsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void Acknowledge_Service_IsStickyNotifyingPersistentWithAuthorAndComment()
    {
        var line = NagiosCommands.Line(NagiosCommands.Acknowledge(NagiosTarget.Of("web01", "Disk Space"), sticky: true, notify: true, persistent: true, "alice", "looking"), Now);

        line.ShouldBe("[1800000000] ACKNOWLEDGE_SVC_PROBLEM;web01;Disk Space;2;1;1;alice;looking");
    }

    [Fact]
    public void Acknowledge_Host_UsesTheHostCommand()
    {
        NagiosCommands.Acknowledge(NagiosTarget.Of("web01"), sticky: false, notify: false, persistent: false, "bob", "on it")
            .ShouldBe("ACKNOWLEDGE_HOST_PROBLEM;web01;1;0;0;bob;on it");
    }

    [Fact]
    public void ScheduleFixedDowntime_Service_HasStartEndFixedAndDuration()
    {
        NagiosCommands.ScheduleFixedDowntime(NagiosTarget.Of("web01", "disk"), Now, Now.AddHours(2), "alice", "maintenance")
            .ShouldBe("SCHEDULE_SVC_DOWNTIME;web01;disk;1800000000;1800007200;1;0;7200;alice;maintenance");
        NagiosCommands.ScheduleFixedDowntime(NagiosTarget.Of("web01"), Now, Now.AddMinutes(5), "alice", "reboot")
            .ShouldBe("SCHEDULE_HOST_DOWNTIME;web01;1800000000;1800000300;1;0;300;alice;reboot");
    }

    [Fact]
    public void ScheduleFixedDowntime_EndBeforeStart_IsRefused()
    {
        Should.Throw<NagiosException>(() => NagiosCommands.ScheduleFixedDowntime(NagiosTarget.Of("web01"), Now, Now, "a", "b"));
    }

    [Theory]
    [InlineData(null, "DEL_HOST_DOWNTIME;7")]
    [InlineData("disk", "DEL_SVC_DOWNTIME;7")]
    public void DeleteDowntime_PicksTheCommandByKind(string? service, string expected)
    {
        NagiosCommands.DeleteDowntime(new NagiosDowntime(7, "web01", service)).ShouldBe(expected);
    }

    [Fact]
    public void ForcedCheckNotificationsAndUnack_HaveTheDocumentedShapes()
    {
        NagiosCommands.ForcedCheck(NagiosTarget.Of("web01", "disk"), Now).ShouldBe("SCHEDULE_FORCED_SVC_CHECK;web01;disk;1800000000");
        NagiosCommands.ForcedCheck(NagiosTarget.Of("web01"), Now).ShouldBe("SCHEDULE_FORCED_HOST_CHECK;web01;1800000000");
        NagiosCommands.Notifications(NagiosTarget.Of("web01", "disk"), enabled: false).ShouldBe("DISABLE_SVC_NOTIFICATIONS;web01;disk");
        NagiosCommands.Notifications(NagiosTarget.Of("web01"), enabled: true).ShouldBe("ENABLE_HOST_NOTIFICATIONS;web01");
        NagiosCommands.RemoveAcknowledgement(NagiosTarget.Of("web01", "disk")).ShouldBe("REMOVE_SVC_ACKNOWLEDGEMENT;web01;disk");
        NagiosCommands.RemoveAcknowledgement(NagiosTarget.Of("web01")).ShouldBe("REMOVE_HOST_ACKNOWLEDGEMENT;web01");
    }

    [Theory]
    [InlineData("web01", "disk", "ok; SHUTDOWN_PROGRAM")]
    [InlineData("web01", "disk", "ok\n[1] SHUTDOWN_PROGRAM")]
    [InlineData("web01", "disk;x", "ok")]
    [InlineData("web01;x", "disk", "ok")]
    public void Acknowledge_AnyHostileField_IsRefusedBeforeALineExists(string host, string service, string comment)
    {
        Should.Throw<NagiosException>(() => NagiosCommands.Acknowledge(NagiosTarget.Of(host, service), true, true, true, "alice", comment));
    }

    [Fact]
    public void Acknowledge_HostileAuthor_IsRefused()
    {
        Should.Throw<NagiosException>(() => NagiosCommands.Acknowledge(NagiosTarget.Of("web01"), true, true, true, "alice;bob", "x"));
    }
}
