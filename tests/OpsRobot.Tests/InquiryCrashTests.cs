using System.Diagnostics;
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
        InquiryTests.WritePack(home, route: null);
        var port = CliTests.FreePort();
        var env = new Dictionary<string, string> { ["OPSROBOT__ADMIN__PASSWORD"] = RunningServer.AdminPassword };
        var args = new[] { "serve", "--listen", $"http://127.0.0.1:{port}" };
        using var client = new ApiClient(new System.Net.CookieContainer()) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        async Task<string?> StatusAsync(long execution) =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{execution}")).GetProperty("status").GetString();

        long id;
        long number;
        using (var first = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!)
        {
            try
            {
                await WaitHealthyAsync(client);
                (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();
                var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "asks.gate", parameters = new { } });
                created.EnsureSuccessStatusCode();
                id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                JsonElement inquiry = default;
                await ExecutionFlowTests.WaitUntilAsync(async () =>
                {
                    var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
                    inquiry = list.GetProperty("inquiries").EnumerateArray().FirstOrDefault();
                    return inquiry.ValueKind == JsonValueKind.Object && await StatusAsync(inquiry.GetProperty("execution").GetInt64()) == "pending";
                }, TimeSpan.FromSeconds(60));
                number = inquiry.GetProperty("id").GetInt64();
                first.Kill(); // SIGKILL while the ask waits
                await first.WaitForExitAsync();
            }
            finally
            {
                if (!first.HasExited)
                {
                    first.Kill(entireProcessTree: true);
                }
            }
        }

        using var second = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!;
        try
        {
            await WaitHealthyAsync(client);
            (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();

            // The resumed workflow's ask adopts the inquiry: same number, a new (pending) ask execution.
            JsonElement adopted = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                adopted = await client.GetFromJsonAsync<JsonElement>($"/api/v1/inquiries/{number}");
                return await StatusAsync(adopted.GetProperty("execution").GetInt64()) == "pending";
            }, TimeSpan.FromSeconds(60));
            adopted.GetProperty("status").GetString().ShouldBe("pending");
            var answered = await client.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true, comment = "after the restart" } });
            answered.IsSuccessStatusCode.ShouldBeTrue(await answered.Content.ReadAsStringAsync());

            JsonElement execution = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                execution = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
                return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned";
            }, TimeSpan.FromSeconds(90));
            execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
            execution.GetProperty("result").GetProperty("output").GetProperty("approved").GetBoolean().ShouldBeTrue();
            var pending = await client.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
            pending.GetProperty("inquiries").GetArrayLength().ShouldBe(0);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }

    private static async Task WaitHealthyAsync(HttpClient client) =>
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            try
            {
                return (await client.GetAsync("/health")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30));
}
