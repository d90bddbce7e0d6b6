using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// The CMDB end to end on a real server with the access world's users and tree: hosts imported through the API,
/// then read through the shell chat (<c>!host</c>, <c>!hosts</c>, <c>!whoowns</c>), the API and the CLI, each
/// limited to the asker's application nodes; and a host-scoped action, which works now that the CMDB maps hosts
/// to nodes. bob is a member of corp/hotel/booking, alice owns corp/hotel, carol is a viewer with no place.
/// </summary>
public sealed class CmdbEndToEndTests : IAsyncLifetime
{
    private AccessWorld _world = null!;

    public async Task InitializeAsync()
    {
        _world = await AccessWorld.StartAsync();
        var csv = new StringBuilder("hostname,addresses,environment,application,tags,owner,status,attr.os\n");
        for (var i = 1; i <= 22; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"web{i:00},10.0.0.{i},prod,corp/hotel/booking,web,team-booking,active,debian12\n");
        }

        csv.Append("webstage01,10.0.9.1,staging,corp/hotel/booking,web,team-booking,active,debian12\n");
        csv.Append("search01,10.0.1.1,prod,corp/hotel/search,,team-search,active,debian12\n");
        csv.Append("fl01,10.0.2.1,prod,corp/flights,,team-flights,active,debian12\n");
        csv.Append("loose01,10.0.3.1,,,,,provisioning,\n");
        using var response = await _world.Admin.PostAsJsonAsync("/api/v1/hosts/import?format=csv", new { content = csv.ToString() });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Theory]
    [InlineData("a member sees a host of their node", "bob", "host web01", "`web01` — active · `prod`")]
    [InlineData("the card names the application", "bob", "host web01", "Application: `corp/hotel/booking` · Owner: `team-booking`")]
    [InlineData("an owner above sees it too", "alice", "host search01", "Application: `corp/hotel/search`")]
    [InlineData("another team's host is not found", "bob", "host search01", "I know no host `search01`.")]
    [InlineData("an unknown host reads the same", "bob", "host nosuch", "I know no host `nosuch`.")]
    [InlineData("a host with no application is for administrators", "bob", "host loose01", "I know no host `loose01`.")]
    [InlineData("the administrator sees it", "admin", "host loose01", "Application: none")]
    [InlineData("a viewer with no place sees nothing", "carol", "host web01", "I know no host `web01`.")]
    [InlineData("whoowns names the node's owners", "bob", "whoowns web01", "`web01`: owned by `team-booking`, application `corp/hotel/booking`; alice owns `corp/hotel`.")]
    [InlineData("whoowns of a hidden host", "bob", "whoowns fl01", "I know no host `fl01`.")]
    [InlineData("a table, paged", "bob", "hosts app=booking env=prod", "Hosts 1–20 of 22 (page 1 of 2)")]
    [InlineData("the next page is offered", "bob", "hosts app=booking env=prod", "Say `!hosts app=booking env=prod page 2` for more.")]
    [InlineData("the second page", "bob", "hosts app=booking env=prod page 2", "Hosts 21–22 of 22 (page 2 of 2)")]
    [InlineData("another team's node lists nothing", "bob", "hosts app=search", "No host you may see matches.")]
    [InlineData("an owner above lists the whole subtree", "alice", "hosts app=corp/hotel", "Hosts 1–20 of 24 (page 1 of 2)")]
    [InlineData("a filter it does not know", "bob", "hosts colour=red", "I do not know the filter `colour`.")]
    [InlineData("an application that is not a node", "bob", "hosts app=../search", "`app` refused:")]
    [InlineData("a page past the end", "bob", "hosts page 9", "There are only 2 pages (23 hosts).")]
    public async Task Chat_ScopedByTheAskersNodes(string row, string user, string line, string expected)
    {
        var output = await _world.ShellAsync(user, "ops", line);

        output.ShouldContain(expected, Case.Sensitive, row + ": " + output);
    }

    [Fact]
    public async Task Chat_HostsTable_ListsOnlyVisibleHosts()
    {
        var output = await _world.ShellAsync("bob", "ops", "hosts env=staging");

        output.ShouldContain("Hosts 1–1 of 1 (page 1 of 1)");
        output.ShouldMatch(@"webstage01\s+staging\s+corp/hotel/booking\s+active\s+team-booking\s+10\.0\.9\.1");
        output.ShouldNotContain("search01");
    }

    [Fact]
    public async Task Api_ListAndGet_ScopedByTheCallersNodes()
    {
        using var bob = _world.KeyClient(await _world.KeyOfAsync("bob"));
        using var carol = _world.KeyClient(await _world.KeyOfAsync("carol"));

        var bobs = await bob.GetFromJsonAsync<JsonElement>("/api/v1/hosts?limit=5");
        using var hidden = await bob.GetAsync("/api/v1/hosts/search01");
        var carols = await carol.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        var admins = await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/hosts?env=prod&name=web0*");

        bobs.GetProperty("total").GetInt32().ShouldBe(23);
        bobs.GetProperty("hosts").GetArrayLength().ShouldBe(5);
        hidden.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        carols.GetProperty("total").GetInt32().ShouldBe(0);
        admins.GetProperty("total").GetInt32().ShouldBe(9);
    }

    [Fact]
    public async Task Api_PutThenHistory_WhoWhenWhat_AndRefusalForAnotherTeam()
    {
        using var bob = _world.KeyClient(await _world.KeyOfAsync("bob"));
        var host = await bob.GetFromJsonAsync<JsonElement>("/api/v1/hosts/web01");
        var changed = JsonSerializer.Serialize(host).Replace("\"active\"", "\"maintenance\"", StringComparison.Ordinal);

        using var put = await bob.PutAsync("/api/v1/hosts/web01", new StringContent(changed, Encoding.UTF8, "application/json"));
        var history = await bob.GetFromJsonAsync<JsonElement>("/api/v1/hosts/web01/history");
        using var moved = await bob.PutAsJsonAsync("/api/v1/hosts/search01", new { hostname = "search01", application = "corp/hotel/booking" });
        using var bad = await bob.PutAsJsonAsync("/api/v1/hosts/web01", new { hostname = "web01", status = "on-fire", colour = "red" });

        put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        (await AccessWorld.JsonAsync(put)).GetProperty("diff").GetRawText().ShouldBe("""{"status":{"from":"active","to":"maintenance"}}""");
        var latest = history.GetProperty("history")[0];
        latest.GetProperty("actor").GetString().ShouldBe("bob");
        latest.GetProperty("change").GetString().ShouldBe("updated");
        latest.GetProperty("diff").GetProperty("status").GetProperty("to").GetString().ShouldBe("maintenance");
        history.GetProperty("history")[1].GetProperty("actor").GetString().ShouldBe("admin");
        moved.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("unknown field 'colour'");
    }

    [Fact]
    public async Task Api_ImportWithABadLine_NothingChanged_ProblemNamesTheLine()
    {
        using var response = await _world.Admin.PostAsJsonAsync("/api/v1/hosts/import?format=csv",
            new { content = "hostname,addresses,status\nweb01,10.0.0.1,retired\nbad host,10.0.0.2,active\n" });
        var body = await AccessWorld.JsonAsync(response);
        var web01 = await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/hosts/web01");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        body.GetProperty("problems")[0].GetProperty("line").GetInt32().ShouldBe(3);
        body.GetProperty("error").GetString()!.ShouldContain("nothing was changed");
        web01.GetProperty("status").GetString().ShouldBe("active");
    }

    [Fact]
    public async Task Cli_ListImportDryRunHistoryExport_ScopedByTheKey()
    {
        var env = new Dictionary<string, string> { ["OPSROBOT_URL"] = _world.Server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = await _world.KeyOfAsync("bob") };
        var file = Path.Combine(_world.Server.Home.Path, "hosts.csv");
        await File.WriteAllTextAsync(file, "hostname,addresses,environment,application,status\nweb01,10.0.0.1,prod,corp/hotel/booking,retired\nweb99,10.0.0.99,prod,corp/hotel/booking,active\n");

        var list = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "list", "env=staging"], environment: env);
        var dry = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "import", file, "--dry-run"], environment: env);
        var web99AfterDry = await _world.Admin.GetAsync("/api/v1/hosts/web99");
        var applied = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "import", file], environment: env);
        var again = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "import", file], environment: env);
        var history = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "history", "web01"], environment: env);
        var hidden = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "show", "search01"], environment: env);
        var export = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["host", "export"], environment: env);

        list.ExitCode.ShouldBe(0, list.StandardError);
        list.StandardOutput.ShouldStartWith("webstage01\tstaging\tcorp/hotel/booking");
        dry.ExitCode.ShouldBe(0, dry.StandardError);
        dry.StandardOutput.ShouldContain("update    web01 (status)");
        dry.StandardOutput.ShouldContain("create    web99");
        dry.StandardError.ShouldContain("Would create 1, update 1, delete 0; 0 unchanged.");
        web99AfterDry.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        web99AfterDry.Dispose();
        applied.StandardError.ShouldContain("Created 1, update 1, delete 0; 0 unchanged.");
        again.StandardError.ShouldContain("Created 0, update 0, delete 0; 2 unchanged.");
        history.StandardOutput.ShouldContain("bob (cli)  updated  status: active → retired");
        hidden.ExitCode.ShouldBe(1);
        hidden.StandardError.ShouldContain("There is no host search01 (or none you may see).");
        export.StandardOutput.ShouldStartWith("hostname,addresses,environment,application,tags,owner,status,attr.os\r\n");
        export.StandardOutput.ShouldContain("web99,10.0.0.99,prod,corp/hotel/booking,,,active,");
        export.StandardOutput.ShouldNotContain("search01");
    }

    [Fact]
    public async Task HostScopedAction_RunsForMembersOfTheHostsNode_RefusedForOthers()
    {
        _world.Server.Home.Write("packs/hostops/pack.yaml", "name: hostops\nversion: 0.1.0\ndescription: Host-scoped commands\n");
        _world.Server.Home.Write("packs/hostops/actions/reboot.yaml", """
            name: reboot
            runner_type: echo
            description: Reboot a host
            scope: {host: host}
            parameters:
              message: {type: string, default: rebooting}
              host: {type: string, required: true}
            """);
        _world.Server.Home.Write("packs/hostops/aliases/reboot.yaml", "name: reboot\naction_ref: hostops.reboot\ndescription: Reboot a host\nformats: [\"reboot {{ host }}\"]\n");
        using var reload = await _world.Admin.PostAsJsonAsync("/api/v1/packs/reload", new { });
        reload.IsSuccessStatusCode.ShouldBeTrue(await reload.Content.ReadAsStringAsync());

        var member = await _world.ShellAsync("bob", "ops", "reboot web01");
        var otherTeam = await _world.ShellAsync("bob", "ops", "reboot search01");
        var unknown = await _world.ShellAsync("bob", "ops", "reboot nosuch");
        var unassigned = await _world.ShellAsync("admin", "ops", "reboot loose01");

        member.ShouldContain("rebooting", Case.Sensitive, member);
        otherTeam.ShouldContain("you need membership of `corp/hotel/search`", Case.Sensitive, otherTeam);
        unknown.ShouldContain("I know no host `nosuch` in an application I can check", Case.Sensitive, unknown);
        unassigned.ShouldContain("I know no host `loose01` in an application I can check", Case.Sensitive, unassigned);
    }
}
