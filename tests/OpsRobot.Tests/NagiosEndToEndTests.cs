using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing.Nagios;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// OpsRobot and a real nagios4 together, wired as docs/integrations/nagios.md tells an operator: Nagios's failing
/// check reaches OpsRobot through the curl notification command, and chat commands reach Nagios through its
/// command file, judged by what Nagios wrote in status.dat.
/// </summary>
public sealed class NagiosEndToEndTests
{
    private const string Token = "nagios-intake-token-for-tests";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task FailingCheck_NotifiesOpsRobot_AndAnAckFromChatReachesNagiosWithItsAuthor()
    {
        var port = CliTests.FreePort();
        await using var nagios = NagiosServer.Create(new NagiosServerOptions
        {
            NotifyUrl = new Uri($"http://127.0.0.1:{port}/api/v1/alerts/nagios"),
            NotifyToken = Token,
        });
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Listen"] = $"http://127.0.0.1:{port}",
            ["OpsRobot:Nagios:CommandFile"] = nagios.CommandFile,
            ["OpsRobot:Nagios:StatusFile"] = nagios.StatusFile,
            ["OpsRobot:Nagios:WebUrl"] = "https://nagios.example/nagios4",
        });
        server.Time.Set(TimeProvider.System.GetUtcNow()); // Nagios keeps real time: downtimes start now, not at the test clock's 09:00
        using var admin = await server.SignInAsync();
        (await admin.PutAsJsonAsync("/api/v1/kv/system/alerts.nagios.token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
        using var alice = await server.CreateUserAsync("alice", roles: "operator");
        using var carol = await server.CreateUserAsync("carol", roles: "viewer");
        (await alice.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).EnsureSuccessStatusCode();
        (await carol.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).EnsureSuccessStatusCode();

        await nagios.StartAsync();

        // The failing check notified OpsRobot: a core.alert event from Nagios.
        var alert = await WaitForAsync(async () =>
        {
            var events = await admin.GetFromJsonAsync<JsonElement>("/api/v1/events?trigger=core.alert");
            return events.GetProperty("events").EnumerateArray().FirstOrDefault(e => e.GetProperty("payload").GetProperty("source").GetString() == "nagios"
                && e.GetProperty("payload").GetProperty("host").GetString() == "web01"
                && e.GetProperty("payload").GetProperty("name").GetString() == "disk");
        });
        var payload = alert.GetProperty("payload");
        payload.GetProperty("status").GetString().ShouldBe("firing");
        payload.GetProperty("severity").GetString().ShouldBe("CRITICAL");
        payload.GetProperty("summary").GetString().ShouldBe("CRITICAL: disk full");

        // A viewer may look, but not acknowledge.
        await SayAsync(carol, "!nagios ack web01 disk mine");
        (await RobotRepliesAsync(admin, 1))[0].ShouldNotContain("Acknowledged");
        await SayAsync(carol, "!nagios status web01 disk");
        var carolsView = (await RobotRepliesAsync(admin, 2))[1];
        carolsView.ShouldStartWith("**web01/disk** is CRITICAL");
        carolsView.ShouldContain("not acknowledged");
        (await File.ReadAllTextAsync(nagios.LogFile)).ShouldNotContain("ACKNOWLEDGE_SVC_PROBLEM");

        await SayAsync(alice, "!nagios ack web01 disk looking");

        (await RobotRepliesAsync(admin, 3))[2].ShouldBe("Acknowledged web01/disk in Nagios as alice: looking");
        var status = await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "disk")!.Contains("problem_has_been_acknowledged=1", StringComparison.Ordinal), Wait);
        var comment = NagiosServer.Blocks(status, "servicecomment").ShouldHaveSingleItem();
        comment.ShouldContain("entry_type=4");
        comment.ShouldContain("author=alice");
        comment.ShouldContain("comment_data=looking");

        await SayAsync(alice, "!nagios status web01 disk");
        var card = (await RobotRepliesAsync(admin, 4))[3];
        card.ShouldStartWith("**web01/disk** is CRITICAL");
        card.ShouldContain("`CRITICAL: disk full`");
        card.ShouldContain("acknowledged by alice: `looking`");
        card.ShouldContain("https://nagios.example/nagios4/cgi-bin/extinfo.cgi?type=2&host=web01&service=disk");

        await SayAsync(alice, "!nagios problems");
        var problems = (await RobotRepliesAsync(admin, 5))[4];
        problems.ShouldStartWith("**1 problem** in Nagios, 0 not acknowledged nor in downtime:");
        problems.ShouldContain("| web01/disk | CRITICAL |");
        problems.ShouldContain("acked by alice");
    }

    [Fact]
    public async Task ChatCommands_DowntimeRecheckNotificationsAndHostileInput_AnswerInTheRoom()
    {
        await using var nagios = await NagiosServer.StartAsync();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Nagios:CommandFile"] = nagios.CommandFile,
            ["OpsRobot:Nagios:StatusFile"] = nagios.StatusFile,
        });
        server.Time.Set(TimeProvider.System.GetUtcNow()); // Nagios keeps real time: downtimes start now
        using var admin = await server.SignInAsync();
        (await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();

        await SayAsync(admin, "!nagios downtime web01 Disk Space 2h swapping the disk");
        (await RobotRepliesAsync(admin, 1))[0].ShouldStartWith("Scheduled a 2h downtime for web01/Disk Space in Nagios, until ");
        var status = await nagios.WaitForStatusAsync(s => NagiosServer.Blocks(s, "servicedowntime").Any(), Wait);
        var downtime = NagiosServer.Blocks(status, "servicedowntime").ShouldHaveSingleItem();
        downtime.ShouldContain("service_description=Disk Space");
        downtime.ShouldContain("author=admin");
        downtime.ShouldContain("comment=swapping the disk");
        var id = downtime.Split('\n').Single(l => l.StartsWith("\tdowntime_id=", StringComparison.Ordinal))["\tdowntime_id=".Length..];

        await SayAsync(admin, "!nagios status web01");
        (await RobotRepliesAsync(admin, 2))[1].ShouldContain($"- #{id} Disk Space:");

        await SayAsync(admin, $"!nagios downtime cancel #{id}");
        (await RobotRepliesAsync(admin, 3))[2].ShouldBe($"Cancelled downtime #{id} of web01/Disk Space (admin: swapping the disk).");
        await nagios.WaitForStatusAsync(s => !NagiosServer.Blocks(s, "servicedowntime").Any(), Wait);

        // The API takes named parameters instead of chat's free text.
        var created = await admin.PostAsJsonAsync("/api/v1/executions", new { action = "nagios.downtime", parameters = new { host = "web01", duration = "30m", comment = "from the API" } });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var executionId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var execution = await WaitForAsync(async () =>
        {
            var e = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{executionId}");
            return e.GetProperty("status").GetString() is "requested" or "scheduled" or "running" ? null : e;
        });
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("text").GetString()!.ShouldStartWith("Scheduled a 30m downtime for web01 in Nagios");
        var hostDowntime = NagiosServer.Blocks(await nagios.WaitForStatusAsync(s => NagiosServer.Blocks(s, "hostdowntime").Any(), Wait), "hostdowntime").ShouldHaveSingleItem();
        hostDowntime.ShouldContain("duration=1800");
        hostDowntime.ShouldContain("comment=from the API");

        await SayAsync(admin, "!nagios notifications off web01 load");
        (await RobotRepliesAsync(admin, 4))[3].ShouldBe("Turned notifications off for web01/load in Nagios.");
        await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "load")!.Contains("\tnotifications_enabled=0", StringComparison.Ordinal), Wait);

        await SayAsync(admin, "!nagios recheck web01 load");
        (await RobotRepliesAsync(admin, 5))[4].ShouldStartWith("Asked Nagios to check web01/load now");

        await WaitForAsync(async () => (await File.ReadAllTextAsync(nagios.LogFile)).Contains("EXTERNAL COMMAND: SCHEDULE_FORCED_SVC_CHECK;web01;load;", StringComparison.Ordinal) ? default(JsonElement) : null);

        // Hostile or wrong input: a clear sentence, and nothing reaches the command file.
        var before = CommandsIn(nagios);
        (await AskAsync(admin, "!nagios ack web01;DISABLE_NOTIFICATIONS disk x", 6)).ShouldContain("is not a host name Nagios can have");
        (await AskAsync(admin, "!nagios ack web01 disk looking; DISABLE_NOTIFICATIONS", 7)).ShouldContain("may not contain ';'");
        (await AskAsync(admin, "!nagios recheck web01 nosuch", 8)).ShouldContain("Host 'web01' has no service 'nosuch' in Nagios");
        (await AskAsync(admin, "!nagios downtime web01 disk forever", 9)).ShouldContain("Say how long the downtime lasts");
        (await AskAsync(admin, "!nagios ack web01 dsik looking", 10)).ShouldBe("web01 is UP, so there is nothing to acknowledge on the host, and 'dsik' is not one of its services (it has: Disk Space, disk, load).");
        (await AskAsync(admin, "!nagios recheck web01 \"Dsk Space\"", 11)).ShouldContain("Host 'web01' has no service 'Dsk Space' in Nagios");
        CommandsIn(nagios).ShouldBe(before);
    }

    private static int CommandsIn(NagiosServer nagios) =>
        File.ReadAllLines(nagios.LogFile).Count(l => l.Contains("EXTERNAL COMMAND:", StringComparison.Ordinal));

    /// <summary>Says <paramref name="text"/> and returns the robot's <paramref name="nth"/> message in the room (1-based).</summary>
    private static async Task<string> AskAsync(HttpClient client, string text, int nth)
    {
        await SayAsync(client, text);
        return (await RobotRepliesAsync(client, nth))[nth - 1];
    }

    private static async Task SayAsync(HttpClient client, string text) =>
        (await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).StatusCode.ShouldBe(HttpStatusCode.Accepted);

    private static async Task<List<string>> RobotRepliesAsync(HttpClient reader, int count)
    {
        List<string> robot = [];
        await WaitForAsync(async () =>
        {
            var history = await reader.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            robot = [.. history.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot")
                .Select(m => m.GetProperty("text").GetString()!)];
            return robot.Count >= count ? (JsonElement?)default(JsonElement) : null;
        });
        return robot;
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> probe)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            if (clock.Elapsed > Wait)
            {
                throw new TimeoutException($"Nothing came within {Wait}.");
            }

            await Task.Delay(100);
        }
    }
}
