using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>Long work shows progress in the room; the API documents itself.</summary>
public sealed class LongRunningTests
{
    [Fact]
    public async Task LongExecution_StillRunningNotice_ShowsTheOutputSoFar()
    {
        var home = new TestHome();
        DemoPack.WriteTo(home);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:StillRunningAfter"] = "00:00:01",
            ["OpsRobot:Chat:StillRunningEvery"] = "00:00:01",
        }, home);
        using var admin = await server.SignInAsync();
        await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        await admin.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!long job" });
        string? notice = null;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var history = await admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");
            // The first notice may come before the action printed anything on a busy machine; they repeat.
            notice = history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()!)
                .FirstOrDefault(t => t.Contains("is still running", StringComparison.Ordinal) && t.Contains("begun", StringComparison.Ordinal));
            return notice is not null;
        }, TimeSpan.FromSeconds(20));

        notice.ShouldNotBeNull().ShouldContain("`demo.long` #1 is still running (");
        notice.ShouldContain("begun");
        await admin.PostAsJsonAsync("/api/v1/executions/1/cancel", new { });
    }

    [Fact]
    public async Task OpenApi_DocumentAndBrowsableUi_AreServed()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.NewClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var ui = await client.GetAsync("/swagger/index.html");

        document.GetProperty("info").GetProperty("title").GetString().ShouldBe("OpsRobot API");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.ShouldContain("/api/v1/executions");
        paths.ShouldContain("/api/v1/executions/{id}/output");
        paths.ShouldContain("/api/v1/aliases/match");
        ui.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ui.Content.ReadAsStringAsync()).ShouldContain("swagger-ui-bundle.js");
    }

    [Fact]
    public async Task Api_Anonymous_IsRefusedEvenFromThisMachine()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/executions");
        request.Headers.Host = "evil.example"; // a page using DNS rebinding to reach the local API

        (await client.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await client.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await client.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
