using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// A workflow asked for from chat waits for an approval when the server is killed. After the restart it carries on:
/// nobody is told it was abandoned (it was not), the answer finishes it, and the room hears the result.
/// </summary>
public sealed class WorkflowRestartTests
{
    [Fact]
    public async Task KillNine_WhileAWorkflowFromChatWaitsForAnApproval_RestartNeverCallsItAbandoned_AndTheRoomHearsTheResult()
    {
        using var home = new TestHome();
        WorkflowPacks.WriteAsks(home, route: null);
        home.Write("packs/asks/aliases/gate.yaml", """
            name: gate
            action_ref: asks.gate
            description: Asks before deploying
            formats: ["gate"]
            """);
        var port = CliTests.FreePort();

        long id;
        long number;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var api = await ServerChild.SignInAsync(port);
            (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
            (await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!gate" })).EnsureSuccessStatusCode();
            JsonElement inquiry = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
                inquiry = list.GetProperty("inquiries").EnumerateArray().FirstOrDefault();
                return inquiry.ValueKind == JsonValueKind.Object
                    && await SecondProcessTests.StatusAsync(api, inquiry.GetProperty("execution").GetInt64()) == "pending";
            }, TimeSpan.FromSeconds(60));
            number = inquiry.GetProperty("id").GetInt64();
            var workflows = await api.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=asks.gate");
            id = workflows.GetProperty("executions").EnumerateArray().Single().GetProperty("id").GetInt64();
            (await SecondProcessTests.StatusAsync(api, id)).ShouldBe("paused");
            await first.KillNineAsync();
        }

        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var client = await ServerChild.SignInAsync(port);

        // Taken over where it was: the question is asked again (same number) and the workflow waits for it.
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var adopted = await client.GetFromJsonAsync<JsonElement>($"/api/v1/inquiries/{number}");
            return await SecondProcessTests.StatusAsync(client, adopted.GetProperty("execution").GetInt64()) == "pending";
        }, TimeSpan.FromSeconds(60));
        var waiting = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
        waiting.GetProperty("status").GetString().ShouldBeOneOf(["paused", "running"], waiting.ToString());
        (await RoomAsync(client)).ShouldNotContain(t => t.Contains("abandoned", StringComparison.OrdinalIgnoreCase));
        (await FinishedAuditAsync(client, id)).ShouldBeEmpty("it has not finished");

        var answered = await client.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true } });
        answered.IsSuccessStatusCode.ShouldBeTrue(await answered.Content.ReadAsStringAsync());

        IReadOnlyList<string> room = [];
        try
        {
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                room = await RoomAsync(client);
                return room.Any(t => t.Contains($"#{id} **", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException("The room was not told the result:\n" + string.Join("\n", room) + "\nServer:\n" + second.Output, ex);
        }

        room.ShouldContain(t => t.Contains($"#{id} **succeeded**", StringComparison.Ordinal), string.Join("\n", room));
        room.ShouldNotContain(t => t.Contains("abandoned", StringComparison.OrdinalIgnoreCase));
        var final = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
        final.GetProperty("status").GetString().ShouldBe("succeeded", final.ToString());
        (await FinishedAuditAsync(client, id)).ShouldBe(["succeeded"]);
    }

    private static async Task<IReadOnlyList<string>> RoomAsync(HttpClient client)
    {
        var history = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
        return [.. history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString() ?? string.Empty)];
    }

    /// <summary>The statuses the audit's execution.finished records give the workflow's execution.</summary>
    private static async Task<IReadOnlyList<string?>> FinishedAuditAsync(HttpClient client, long id)
    {
        var audit = await client.GetFromJsonAsync<JsonElement>("/api/v1/audit?kind=execution.finished&limit=200");
        return [.. audit.GetProperty("records").EnumerateArray()
            .Where(r => r.GetProperty("subject").GetString()?.StartsWith($"#{id} ", StringComparison.Ordinal) == true)
            .Select(r => r.GetProperty("detail").GetProperty("status").GetString())];
    }
}
