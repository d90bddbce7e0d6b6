using System.Text;
using OpsRobot.Integrations.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

public sealed class StatusDataParserTests
{
    /// <summary>Cut from a status.dat written by Debian's nagios4 4.4.6 (fields trimmed to those that matter).</summary>
    private const string Sample = """
        ########################################
        #          NAGIOS STATUS FILE
        ########################################

        info {
        	created=1795276626
        	version=4.4.6
        	}

        programstatus {
        	nagios_pid=13245
        	}

        hoststatus {
        	host_name=web01
        	has_been_checked=1
        	current_state=0
        	state_type=1
        	plugin_output=OK: up
        	last_check=1795276618
        	last_state_change=1795276618
        	notifications_enabled=1
        	problem_has_been_acknowledged=0
        	scheduled_downtime_depth=1
        	}

        servicestatus {
        	host_name=web01
        	service_description=disk
        	has_been_checked=1
        	current_state=2
        	state_type=1
        	plugin_output=CRITICAL: disk full; usage=99% a=b
        	last_check=1795276623
        	last_state_change=1795276618
        	notifications_enabled=0
        	problem_has_been_acknowledged=1
        	scheduled_downtime_depth=1
        	}

        servicestatus {
        	host_name=web01
        	service_description=Disk Space
        	has_been_checked=0
        	current_state=0
        	}

        contactstatus {
        	contact_name=opsrobot
        	}

        servicecomment {
        	host_name=web01
        	service_description=disk
        	entry_type=4
        	comment_id=1
        	entry_time=1795276624
        	author=alice
        	comment_data=looking
        	}

        servicedowntime {
        	host_name=web01
        	service_description=disk
        	downtime_id=1
        	start_time=1795276624
        	end_time=1795280224
        	fixed=1
        	is_in_effect=1
        	author=alice
        	comment=maint
        	}

        hostdowntime {
        	host_name=web01
        	downtime_id=2
        	start_time=1795276624
        	end_time=1795280224
        	fixed=1
        	is_in_effect=1
        	author=bob
        	comment=hostmaint
        	}

        """;

    private static Task<NagiosStatus> ParseAsync(string text) => StatusDataParser.ParseAsync(new StringReader(text), CancellationToken.None);

    [Fact]
    public async Task Parse_RealFile_ReadsHostsServicesDowntimesAndAcknowledgements()
    {
        var status = await ParseAsync(Sample);

        status.Written.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1795276626));
        var host = status.FindHost("web01").ShouldNotBeNull();
        (host.StateName, host.Output, host.DowntimeDepth, host.IsProblem).ShouldBe(("UP", "OK: up", 1, false));
        var disk = status.FindService("web01", "disk").ShouldNotBeNull();
        disk.StateName.ShouldBe("CRITICAL");
        disk.Output.ShouldBe("CRITICAL: disk full; usage=99% a=b");
        disk.Acknowledged.ShouldBeTrue();
        disk.NotificationsEnabled.ShouldBeFalse();
        disk.LastCheck.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1795276623));
        status.FindService("web01", "Disk Space").ShouldNotBeNull().StateName.ShouldBe("PENDING");
        status.AcknowledgementOf("web01", "disk").ShouldNotBeNull().Author.ShouldBe("alice");
        status.Downtimes.Select(d => (d.Id, d.Service, d.Author, d.InEffect)).ShouldBe([(1L, "disk", "alice", true), (2L, null, "bob", true)]);
        status.ServicesOf("web01").Count().ShouldBe(2);
    }

    [Fact]
    public async Task Parse_DamagedLines_AreSkippedAndTheRestIsRead()
    {
        var text = """
            garbage outside any block
            hoststatus {
            	host_name=web01
            	this line has no equals sign
            	=value without a key
            	current_state=not-a-number
            	last_check=-5
            	}
            }
            servicestatus {
            	service_description=no host name
            	}
            hoststatus {
            	host_name=web02
            	current_state=1
            hoststatus {
            	host_name=web03
            	current_state=2
            	}
            servicestatus {
            	host_name=web03
            	service_description=cut off at the end
            """;

        var status = await ParseAsync(text);

        status.Hosts.Select(h => h.Name).Order(StringComparer.Ordinal).ShouldBe(["web01", "web03"]);
        var web01 = status.FindHost("web01").ShouldNotBeNull();
        (web01.State, web01.LastCheck).ShouldBe((0, null));
        status.FindHost("web03").ShouldNotBeNull().StateName.ShouldBe("UNREACHABLE");
        status.Services.ShouldBeEmpty();
    }

    [Fact]
    public async Task Parse_Empty_GivesAnEmptyStatus()
    {
        var status = await ParseAsync(string.Empty);

        (status.Written, status.Hosts.Count, status.Services.Count, status.Downtimes.Count).ShouldBe((null, 0, 0, 0));
    }

    [Fact]
    public async Task ReadFile_LargeFile_IsStreamedToTheEnd()
    {
        // 2,000 hosts × 50 services: about 40 MB of status data, read line by line.
        var path = Path.Combine(Path.GetTempPath(), $"opsrobot-status-{Guid.NewGuid():N}.dat");
        try
        {
            await using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
            {
                await writer.WriteAsync("info {\n\tcreated=1795276626\n\t}\n\n");
                for (var h = 0; h < 2000; h++)
                {
                    await writer.WriteAsync($"hoststatus {{\n\thost_name=host{h}\n\tcurrent_state={(h % 100 == 0 ? 1 : 0)}\n\thas_been_checked=1\n\t}}\n\n");
                    for (var s = 0; s < 50; s++)
                    {
                        await writer.WriteAsync($"servicestatus {{\n\thost_name=host{h}\n\tservice_description=svc {s}\n\tcurrent_state={(s == 7 ? 2 : 0)}\n\thas_been_checked=1\n\tplugin_output={new string('x', 300)}\n\tlong_plugin_output={new string('y', 300)}\n\t}}\n\n");
                    }
                }
            }

            var status = await StatusDataParser.ReadFileAsync(path, CancellationToken.None);

            status.Hosts.Count.ShouldBe(2000);
            status.Services.Count.ShouldBe(100_000);
            status.Hosts.Count(h => h.IsProblem).ShouldBe(20);
            status.Services.Count(s => s.IsProblem).ShouldBe(2000);
            status.FindService("host1999", "svc 49").ShouldNotBeNull();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadFile_InvalidUtf8_IsReplacedNotFatal()
    {
        var path = Path.Combine(Path.GetTempPath(), $"opsrobot-status-{Guid.NewGuid():N}.dat");
        try
        {
            var bytes = Encoding.UTF8.GetBytes("hoststatus {\n\thost_name=web01\n\tplugin_output=bad ").Concat(new byte[] { 0xff, 0xfe }).Concat(Encoding.UTF8.GetBytes(" bytes\n\t}\n")).ToArray();
            await File.WriteAllBytesAsync(path, bytes);

            var status = await StatusDataParser.ReadFileAsync(path, CancellationToken.None);

            status.FindHost("web01").ShouldNotBeNull().Output.ShouldBe("bad \uFFFD\uFFFD bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
