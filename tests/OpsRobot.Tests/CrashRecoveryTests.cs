using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>kill -9 in the middle of an execution, then a restart: the execution is marked, the room is told.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KillNine_WhileAnExecutionRuns_RestartMarksItAbandonedAndTellsTheRoom()
    {
        using var home = new TestHome();
        DemoPack.WriteTo(home);
        var port = CliTests.FreePort();

        long id;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            (await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
            (await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!long job" })).EnsureSuccessStatusCode();
            id = await WaitForRunningAsync(client, "demo.long");

            await first.KillNineAsync();

            // The killed server's sleep lives on in its own process group, as it would in production; the test cleans up.
            first.KillLeftBehind();
        }

        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);
        var execution = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
        var history = await api.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");

        execution.GetProperty("status").GetString().ShouldBe("abandoned");
        execution.GetProperty("error").GetString()!.ShouldContain("OpsRobot stopped while this execution was running");
        history.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString()!.ShouldContain($"#{id} was **abandoned**");
    }

    private static async Task<long> WaitForRunningAsync(HttpClient client, string action)
    {
        long id = 0;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions?action={action}");
            var running = list.GetProperty("executions").EnumerateArray().FirstOrDefault(e => e.GetProperty("status").GetString() == "running");
            if (running.ValueKind == JsonValueKind.Undefined)
            {
                return false;
            }

            id = running.GetProperty("id").GetInt64();
            return true;
        }, TimeSpan.FromSeconds(15));
        return id;
    }
}
