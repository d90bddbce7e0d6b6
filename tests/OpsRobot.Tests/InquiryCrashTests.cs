using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>kill -9 while a workflow waits for an answer, then a restart: the same inquiry is still open and answering it finishes the workflow.</summary>
public sealed class InquiryCrashTests
{
    [Fact]
    public async Task KillNine_WhileAnInquiryWaits_RestartKeepsItAnswerable_AndTheAnswerFinishesTheWorkflow()
    {
        using var home = new TestHome();
        WorkflowPacks.WriteAsks(home, route: null);
        var port = CliTests.FreePort();

        long id;
        long number;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "asks.gate", parameters = new { } });
            created.EnsureSuccessStatusCode();
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            JsonElement inquiry = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
                inquiry = list.GetProperty("inquiries").EnumerateArray().FirstOrDefault();
                return inquiry.ValueKind == JsonValueKind.Object && await StatusAsync(client, inquiry.GetProperty("execution").GetInt64()) == "pending";
            }, TimeSpan.FromSeconds(60));
            number = inquiry.GetProperty("id").GetInt64();
            await first.KillNineAsync(); // while the ask waits
        }

        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);

        // The resumed workflow's ask adopts the inquiry: same number, a new (pending) ask execution.
        JsonElement adopted = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            adopted = await api.GetFromJsonAsync<JsonElement>($"/api/v1/inquiries/{number}");
            return await StatusAsync(api, adopted.GetProperty("execution").GetInt64()) == "pending";
        }, TimeSpan.FromSeconds(60));
        adopted.GetProperty("status").GetString().ShouldBe("pending");
        var answered = await api.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true, comment = "after the restart" } });
        answered.IsSuccessStatusCode.ShouldBeTrue(await answered.Content.ReadAsStringAsync());

        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(90));
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("approved").GetBoolean().ShouldBeTrue();
        var pending = await api.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
        pending.GetProperty("inquiries").GetArrayLength().ShouldBe(0);
    }

    private static async Task<string?> StatusAsync(HttpClient client, long execution) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{execution}")).GetProperty("status").GetString();
}
