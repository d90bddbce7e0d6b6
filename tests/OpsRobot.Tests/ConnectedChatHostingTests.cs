using System.Net;
using System.Text;
using System.Text.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// The Slack, Mattermost and Rocket.Chat adapters as the real server wires them (their protocols are tested against
/// fakes in OpsRobot.Chat.Tests): off unless configured, each a health component when on, and the Mattermost button and
/// Slack events endpoints mapped, refusing what was not signed.
/// </summary>
public sealed class ConnectedChatHostingTests
{
    [Fact]
    public async Task NotConfigured_NoAdapter_NoButtonEndpoint()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.NewClient();

        var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
        health.RootElement.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ShouldNotContain(n => n!.StartsWith("chat:s") || n.StartsWith("chat:m") || n.StartsWith("chat:r"));
        var press = await client.PostAsync("/api/v1/chat/mattermost/actions", new StringContent("{}", Encoding.UTF8, "application/json"));
        press.StatusCode.ShouldNotBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AllThreeConfigured_UnreachableServers_AreDegradedComponents_ServerStillHealthy()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:Slack:Enabled"] = "true",
            ["OpsRobot:Chat:Slack:AppToken"] = "xapp-1-test",
            ["OpsRobot:Chat:Slack:BotToken"] = "xoxb-test",
            ["OpsRobot:Chat:Slack:ApiBaseUrl"] = "http://127.0.0.1:9/api/",
            ["OpsRobot:Chat:Slack:SigningSecret"] = "signing-secret-for-tests",
            ["OpsRobot:Chat:Mattermost:Enabled"] = "true",
            ["OpsRobot:Chat:Mattermost:ServerUrl"] = "http://127.0.0.1:9/",
            ["OpsRobot:Chat:Mattermost:Token"] = "mmtoken",
            ["OpsRobot:Chat:Mattermost:ActionUrl"] = "http://127.0.0.1:5080/api/v1/chat/mattermost/actions",
            ["OpsRobot:Chat:RocketChat:Enabled"] = "true",
            ["OpsRobot:Chat:RocketChat:ServerUrl"] = "http://127.0.0.1:9/",
            ["OpsRobot:Chat:RocketChat:UserId"] = "bot",
            ["OpsRobot:Chat:RocketChat:AuthToken"] = "token",
        });
        using var client = server.NewClient();

        var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
        var components = health.RootElement.GetProperty("components").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("state").GetString());
        components["chat:slack"].ShouldBe("degraded");
        components["chat:mattermost"].ShouldBe("degraded");
        components["chat:rocketchat"].ShouldBe("degraded");

        var forged = """{"user_id":"a11ce000000000000000000000","channel_id":"0ps00000000000000000000000","context":{"command":"!approve 1","root_id":"","signature":"00"}}""";
        var press = await client.PostAsync("/api/v1/chat/mattermost/actions", new StringContent(forged, Encoding.UTF8, "application/json"));
        press.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        var unsigned = await client.PostAsync("/chat/slack/events", new StringContent("""{"type":"url_verification","challenge":"x"}""", Encoding.UTF8, "application/json"));
        unsigned.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
