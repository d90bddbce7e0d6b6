using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// The IRC server disappears (SIGKILL) while an execution asked from IRC runs: the web chat keeps answering and
/// health says IRC is degraded; the result, finished during the outage, reaches the channel once after the
/// robot has reconnected and rejoined.
/// </summary>
public sealed class ChatOutageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task IrcServerKilled_WebChatStaysResponsive_ResultFinishedMeanwhileIsDeliveredOnceAfterReconnect()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var gate = new GatedRelay(irc.Port);
        var home = new TestHome();
        home.Write("packs/out/pack.yaml", "name: out\nversion: 0.1.0\ndescription: Outage test\n");
        home.Write("packs/out/actions/later.yaml", """
            name: later
            runner_type: shell
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 2; echo finished-while-away"}
            """);
        home.Write("packs/out/aliases/later.yaml", "name: later\naction_ref: out.later\nformats: [\"later\"]\n");
        var user = await RawIrcClient.ConnectAsync(irc.Port, "frank");
        await user.JoinAsync("#ops");
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["OpsRobot:Chat:Irc:Enabled"] = "true",
            ["OpsRobot:Chat:Irc:Host"] = "127.0.0.1",
            ["OpsRobot:Chat:Irc:Port"] = gate.Port.ToString(CultureInfo.InvariantCulture),
            ["OpsRobot:Chat:Irc:Nick"] = "opsbot",
            ["OpsRobot:Chat:Irc:Channels:0"] = "#ops",
            ["OpsRobot:Chat:Irc:MessageDelay"] = "00:00:00.050",
            ["OpsRobot:Chat:Irc:ReconnectMinDelay"] = "00:00:00.200",
            ["OpsRobot:Chat:Irc:ReconnectMaxDelay"] = "00:00:01",
        }, home);
        using var web = await server.SignInAsync();
        (await web.PostAsJsonAsync("/api/v1/rooms", new { name = "web" })).EnsureSuccessStatusCode();

        // frank on IRC is the administrator (an unlinked nick is a guest, who may not run actions).
        (await web.PostAsJsonAsync("/api/v1/identities", new { platform = "irc", platformUserId = "frank", user = "admin" })).EnsureSuccessStatusCode();

        long id;
        await using (user)
        {
            await user.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);
            await user.SendAsync("PRIVMSG #ops :!later");
            var ack = await user.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait);
            ack.Params[1].ShouldContain("out.later");
            id = long.Parse(ack.Params[1][(ack.Params[1].IndexOf('#', StringComparison.Ordinal) + 1)..].TrimEnd('.'), CultureInfo.InvariantCulture);
        }

        // The IRC server dies under the robot; the gate keeps it out until the test's client is back.
        gate.Open = false;
        await irc.StopAsync();

        // The web chat answers meanwhile, and health says IRC is degraded (not the whole server down).
        var clock = Stopwatch.StartNew();
        (await web.PostAsJsonAsync("/api/v1/rooms/web/messages", new { text = "!echo alive" })).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var history = await web.GetFromJsonAsync<JsonElement>("/api/v1/rooms/web/messages");
            return history.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("text").GetString() == "alive");
        }, Wait);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "the web chat waited on the dead IRC server");
        JsonElement health = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var response = await web.GetAsync("/health");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            health = await response.Content.ReadFromJsonAsync<JsonElement>();
            return health.GetProperty("components").EnumerateArray().Any(c => c.GetProperty("name").GetString() == "chat:irc" && c.GetProperty("state").GetString() == "degraded");
        }, Wait);

        // The execution finishes while IRC is away.
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await web.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString() == "succeeded", Wait);

        await irc.StartAgainAsync();
        await using var again = await RawIrcClient.ConnectAsync(irc.Port, "frank");
        await again.JoinAsync("#ops");
        gate.Open = true;

        await again.WaitForAsync(l => l.Command == "JOIN" && l.Nick == "opsbot", Wait);
        await again.SendAsync("PRIVMSG #ops :!ping");

        // Everything the robot says up to its answer to the ping: the queued result first, once.
        var said = new List<string>();
        while (said.LastOrDefault() != "pong")
        {
            said.Add((await again.WaitForAsync(l => l.Command == "PRIVMSG" && l.Nick == "opsbot", Wait)).Params[1]);
        }

        said.Count(t => t.Contains($"#{id}", StringComparison.Ordinal)).ShouldBe(1, string.Join("\n", said));
        said[0].ShouldContain($"#{id} succeeded");
    }
}
