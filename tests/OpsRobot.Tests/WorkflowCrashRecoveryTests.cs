using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>kill -9 in the middle of a workflow, then a restart: the workflow carries on where it was.</summary>
public sealed class WorkflowCrashRecoveryTests
{
    [Fact]
    public async Task KillNine_InTheMiddleOfAWorkflow_RestartResumesItWithoutRunningCompletedTasksAgain()
    {
        using var home = new TestHome();
        WorkflowPacks.WriteFlow(home);
        var log = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        var port = CliTests.FreePort();

        long id;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            id = await StartFlowAsync(client, log, flag);

            // step1 is done and the gate runs: the workflow is in the middle.
            await WaitForGateAsync(log);
            await first.KillNineAsync();

            // The killed server's gate loop outlives it (its own process group); stop it so only the resumed run writes.
            first.KillLeftBehind();
        }

        await File.WriteAllTextAsync(flag, "open");
        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("gated").GetBoolean().ShouldBeTrue();
        var lines = (await File.ReadAllLinesAsync(log)).ToList();
        lines.Count(l => l == "step1").ShouldBe(1, string.Join(", ", lines));
        lines.Count(l => l == "gate-start").ShouldBe(2, string.Join(", ", lines));
        lines.Count(l => l == "gate-end").ShouldBe(1, string.Join(", ", lines));
        lines.Count(l => l == "step3").ShouldBe(1, string.Join(", ", lines));
        lines[^1].ShouldBe("step3");
    }

    [Fact]
    public async Task KillNine_WhileAWorkflowIsPaused_RestartKeepsItPaused_AndResumeFinishesIt()
    {
        using var home = new TestHome();
        WorkflowPacks.WriteFlow(home);
        var log = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        var port = CliTests.FreePort();

        long id;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            id = await StartFlowAsync(client, log, flag);
            await WaitForGateAsync(log);
            (await client.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { })).EnsureSuccessStatusCode();
            await File.WriteAllTextAsync(flag, "open");
            await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(client, id) == "paused", TimeSpan.FromSeconds(60));
            await first.KillNineAsync(); // while paused
        }

        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);
        await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(api, id) == "paused", TimeSpan.FromSeconds(60));
        (await File.ReadAllTextAsync(log)).ShouldNotContain("step3");

        var resumed = await api.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { });
        resumed.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
    }

    private static async Task<long> StartFlowAsync(HttpClient client, string log, string flag)
    {
        var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log, flag } });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static Task WaitForGateAsync(string log) =>
        ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));

    private static async Task<string?> StatusAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString();

    private static async Task<JsonElement> WaitFinishedAsync(HttpClient client, long id)
    {
        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(90));
        return execution;
    }
}
