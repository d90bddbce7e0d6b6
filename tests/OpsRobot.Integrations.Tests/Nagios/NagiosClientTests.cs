using OpsRobot.Core.Alerts;
using OpsRobot.Integrations.Nagios;
using OpsRobot.Testing.Nagios;
using static OpsRobot.Integrations.Tests.Nagios.NagiosTestSupport;

namespace OpsRobot.Integrations.Tests.Nagios;

/// <summary>
/// The client against a real nagios4 started by each test: every command is judged by what Nagios wrote to
/// status.dat afterwards, read as text by the fixture (not by the parser under test).
/// </summary>
public sealed class NagiosClientTests
{
    [Fact]
    public async Task Acknowledge_FailingService_StatusShowsTheAcknowledgementWithAuthorAndComment()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        await client.AcknowledgeAsync(NagiosTarget.Of("web01", "disk"), "alice", "looking into it", status: null, CancellationToken.None);

        var status = await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "disk")!.Contains("problem_has_been_acknowledged=1", StringComparison.Ordinal), Wait);
        NagiosServer.ServiceBlock(status, "web01", "disk")!.ShouldContain("acknowledgement_type=2"); // sticky
        var comment = NagiosServer.Blocks(status, "servicecomment").ShouldHaveSingleItem();
        comment.ShouldContain("entry_type=4");
        comment.ShouldContain("author=alice");
        comment.ShouldContain("comment_data=looking into it");
        (await nagios.WaitForNotificationAsync("ACKNOWLEDGEMENT", Wait)).ShouldBe("ACKNOWLEDGEMENT;web01;disk;CRITICAL;alice;looking into it");

        var parsed = await client.ReadStatusAsync(CancellationToken.None);
        parsed.FindService("web01", "disk").ShouldNotBeNull().Acknowledged.ShouldBeTrue();
        parsed.AcknowledgementOf("web01", "disk").ShouldNotBeNull().Author.ShouldBe("alice");

        await client.RemoveAcknowledgementAsync(NagiosTarget.Of("web01", "disk"), status: null, CancellationToken.None);
        await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "disk")!.Contains("problem_has_been_acknowledged=0", StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task Acknowledge_ServiceThatIsOk_IsRefusedWithoutSendingAnything()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        var ex = await Should.ThrowAsync<NagiosException>(() => client.AcknowledgeAsync(NagiosTarget.Of("web01", "load"), "alice", "x", status: null, CancellationToken.None));

        ex.Message.ShouldBe("web01/load is OK: there is no problem to acknowledge.");
        (await File.ReadAllTextAsync(nagios.LogFile)).ShouldNotContain("ACKNOWLEDGE");
    }

    [Fact]
    public async Task Commands_UnknownHostOrService_AreRefusedWithSuggestions()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        (await Should.ThrowAsync<NagiosException>(() => client.RecheckAsync(NagiosTarget.Of("web1"), status: null, CancellationToken.None)))
            .Message.ShouldBe("Nagios has no host 'web1' (did you mean web01?).");
        (await Should.ThrowAsync<NagiosException>(() => client.RecheckAsync(NagiosTarget.Of("WBE1"), status: null, CancellationToken.None)))
            .Message.ShouldBe("Nagios has no host 'WBE1' (did you mean web01?).", "a swap and a deletion, in capitals: two typos");
        (await Should.ThrowAsync<NagiosException>(() => client.SetNotificationsAsync(NagiosTarget.Of("web01", "Disk"), false, status: null, CancellationToken.None)))
            .Message.ShouldBe("Host 'web01' has no service 'Disk' in Nagios (did you mean Disk Space, disk?).");
        (await File.ReadAllTextAsync(nagios.LogFile)).ShouldNotContain("EXTERNAL COMMAND");
    }

    [Fact]
    public async Task ScheduleAndCancelDowntime_ServiceAndHost_StatusShowsThemThenNot()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        await client.ScheduleDowntimeAsync(NagiosTarget.Of("web01", "disk"), TimeSpan.FromHours(2), "alice", "disk swap", status: null, CancellationToken.None);
        await client.ScheduleDowntimeAsync(NagiosTarget.Of("web01"), TimeSpan.FromMinutes(30), "bob", "reboot", status: null, CancellationToken.None);

        var status = await nagios.WaitForStatusAsync(s => NagiosServer.Blocks(s, "servicedowntime").Any() && NagiosServer.Blocks(s, "hostdowntime").Any(), Wait);
        var serviceDowntime = NagiosServer.Blocks(status, "servicedowntime").ShouldHaveSingleItem();
        serviceDowntime.ShouldContain("service_description=disk");
        serviceDowntime.ShouldContain("fixed=1");
        serviceDowntime.ShouldContain("duration=7200");
        serviceDowntime.ShouldContain("author=alice");
        serviceDowntime.ShouldContain("comment=disk swap");
        NagiosServer.Blocks(status, "hostdowntime").ShouldHaveSingleItem().ShouldContain("author=bob");
        await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "disk")!.Contains("scheduled_downtime_depth=1", StringComparison.Ordinal), Wait);

        var parsed = await client.ReadStatusAsync(CancellationToken.None);
        var serviceId = parsed.Downtimes.Single(d => d.Service == "disk").Id;
        var hostId = parsed.Downtimes.Single(d => d.Service is null).Id;
        (await client.CancelDowntimeAsync(serviceId, CancellationToken.None)).Comment.ShouldBe("disk swap");
        (await client.CancelDowntimeAsync(hostId, CancellationToken.None)).Author.ShouldBe("bob");

        await nagios.WaitForStatusAsync(s => !NagiosServer.Blocks(s, "servicedowntime").Any() && !NagiosServer.Blocks(s, "hostdowntime").Any(), Wait);
        (await Should.ThrowAsync<NagiosException>(() => client.CancelDowntimeAsync(serviceId, CancellationToken.None))).Message.ShouldContain($"no downtime #{serviceId}");
    }

    [Fact]
    public async Task ScheduleDowntime_LongerThanAllowed_IsRefused()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        (await Should.ThrowAsync<NagiosException>(() => client.ScheduleDowntimeAsync(NagiosTarget.Of("web01"), TimeSpan.FromDays(31), "a", "b", status: null, CancellationToken.None)))
            .Message.ShouldContain("at most 30d");
    }

    [Fact]
    public async Task Recheck_Service_NagiosChecksItAgain()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);
        var before = await client.ReadStatusAsync(CancellationToken.None);
        var lastCheck = before.FindService("web01", "load").ShouldNotBeNull().LastCheck.ShouldNotBeNull();

        // Checks run every 300 s in the fixture, so only the forced check moves last_check within the wait.
        // last_check has a resolution of one second: let a second pass so the forced check's time is later.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await client.RecheckAsync(NagiosTarget.Of("web01", "load"), status: null, CancellationToken.None);

        await nagios.WaitForStatusAsync(s => Checked(s) > lastCheck, Wait);
        (await File.ReadAllTextAsync(nagios.LogFile)).ShouldContain("EXTERNAL COMMAND: SCHEDULE_FORCED_SVC_CHECK;web01;load;");

        static DateTimeOffset Checked(string s) =>
            DateTimeOffset.FromUnixTimeSeconds(long.Parse(NagiosServer.ServiceBlock(s, "web01", "load")!.Split('\n').Single(l => l.StartsWith("\tlast_check=", StringComparison.Ordinal))["\tlast_check=".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Notifications_OffAndOnForServiceAndHost_StatusFollows()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var client = ClientFor(nagios);

        await client.SetNotificationsAsync(NagiosTarget.Of("web01", "Disk Space"), false, status: null, CancellationToken.None);
        await client.SetNotificationsAsync(NagiosTarget.Of("web01"), false, status: null, CancellationToken.None);
        await nagios.WaitForStatusAsync(
            s => NagiosServer.ServiceBlock(s, "web01", "Disk Space")!.Contains("\tnotifications_enabled=0", StringComparison.Ordinal)
                && NagiosServer.HostBlock(s, "web01")!.Contains("\tnotifications_enabled=0", StringComparison.Ordinal),
            Wait);

        await client.SetNotificationsAsync(NagiosTarget.Of("web01", "Disk Space"), true, status: null, CancellationToken.None);
        await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "Disk Space")!.Contains("\tnotifications_enabled=1", StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task AlertSource_AckAndSilence_ActOnTheHostAndServiceFromTheLabels()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var source = new NagiosAlertSource(ClientFor(nagios));
        var alert = new AlertReference("f1", "disk", "web01", new Dictionary<string, string> { ["host"] = "web01", ["service"] = "disk", ["state"] = "CRITICAL" });
        var actor = new AlertActor("carol", "ops");

        var ack = await source.AcknowledgeAsync(alert, actor, null, CancellationToken.None);
        var silence = await source.SilenceAsync(alert, TimeSpan.FromHours(1), actor, "planned", CancellationToken.None);

        source.Name.ShouldBe("nagios");
        (ack.Succeeded, ack.Message).ShouldBe((true, "Acknowledged web01/disk in Nagios as carol."));
        silence.Succeeded.ShouldBeTrue(silence.Message);
        var status = await nagios.WaitForStatusAsync(s => NagiosServer.Blocks(s, "servicedowntime").Any() && NagiosServer.Blocks(s, "servicecomment").Any(c => c.Contains("entry_type=4", StringComparison.Ordinal)), Wait);
        NagiosServer.Blocks(status, "servicecomment").Single(c => c.Contains("entry_type=4", StringComparison.Ordinal)).ShouldContain("comment_data=Acknowledged from OpsRobot in ops");
        var downtime = NagiosServer.Blocks(status, "servicedowntime").ShouldHaveSingleItem();
        downtime.ShouldContain("author=carol");
        downtime.ShouldContain("comment=planned");
        downtime.ShouldContain("duration=3600");
    }

    [Fact]
    public async Task AlertSource_HostileLabels_FailWithTheReasonAndSendNothing()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var source = new NagiosAlertSource(ClientFor(nagios));
        var hostile = new AlertReference("f2", "disk", null, new Dictionary<string, string> { ["host"] = "web01", ["service"] = "disk;1;1;1;x;y\n[1] SHUTDOWN_PROGRAM" });
        var hostless = new AlertReference("f3", "x", null, new Dictionary<string, string>());

        var refused = await source.AcknowledgeAsync(hostile, new AlertActor("carol", "ops"), null, CancellationToken.None);
        var noHost = await source.SilenceAsync(hostless, TimeSpan.FromHours(1), new AlertActor("carol", "ops"), null, CancellationToken.None);

        refused.Succeeded.ShouldBeFalse();
        refused.Message.ShouldContain("is not a service name Nagios can have");
        (noHost.Succeeded, noHost.Message).ShouldBe((false, "This alert names no host (label 'host'), so there is nothing to act on in Nagios."));
        nagios.HasExited.ShouldBeFalse();
        (await File.ReadAllTextAsync(nagios.LogFile)).ShouldNotContain("EXTERNAL COMMAND");
    }

    [Fact]
    public async Task Commands_NagiosStopped_SayItIsNotRunning()
    {
        var nagios = await NagiosServer.StartAsync();
        var options = OptionsFor(nagios);
        var copy = Path.Combine(Path.GetTempPath(), $"opsrobot-status-{Guid.NewGuid():N}.dat");
        File.Copy(nagios.StatusFile, copy);
        var pipe = Path.Combine(Path.GetTempPath(), $"opsrobot-pipe-{Guid.NewGuid():N}.cmd");
        await nagios.DisposeAsync();
        MakeFifo(pipe);
        try
        {
            var client = ClientFor(new NagiosOptions { CommandFile = pipe, StatusFile = copy, CommandTimeout = options.CommandTimeout });

            (await Should.ThrowAsync<NagiosException>(() => client.RecheckAsync(NagiosTarget.Of("web01"), status: null, CancellationToken.None)))
                .Message.ShouldStartWith("Nagios is not running");
        }
        finally
        {
            File.Delete(copy);
            File.Delete(pipe);
        }
    }
}
