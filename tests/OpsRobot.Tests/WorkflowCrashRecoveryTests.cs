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
        using var flow = new FlowHome();
        var id = await flow.KillNineInTheMiddleAsync();

        await File.WriteAllTextAsync(flow.Flag, "open");
        await using var second = await ServerChild.StartAsync(flow.Home.Path, flow.Port);
        using var api = await ServerChild.SignInAsync(flow.Port);
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("gated").GetBoolean().ShouldBeTrue();
        var lines = (await File.ReadAllLinesAsync(flow.Log)).ToList();
        lines.Count(l => l == "step1").ShouldBe(1, string.Join(", ", lines));
        lines.Count(l => l == "gate-start").ShouldBe(2, string.Join(", ", lines));
        lines.Count(l => l == "gate-end").ShouldBe(1, string.Join(", ", lines));
        lines.Count(l => l == "step3").ShouldBe(1, string.Join(", ", lines));
        lines[^1].ShouldBe("step3");
    }

    [Fact]
    public async Task KillNine_ThenTheWorkflowsStoredRequesterIsDamaged_RestartAbandonsItWithTheReason_AndRunsNoMoreOfIt()
    {
        using var flow = new FlowHome();
        var id = await flow.KillNineInTheMiddleAsync();

        // Who asked for it can no longer be read (a database edited by hand, or damaged).
        var database = Path.Combine(flow.Home.Path, "data", "opsrobot.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE executions SET requester = '{{\"door\": ' WHERE id = {id}";
            (await command.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        await File.WriteAllTextAsync(flow.Flag, "open");
        await using var second = await ServerChild.StartAsync(flow.Home.Path, flow.Port);
        using var api = await ServerChild.SignInAsync(flow.Port);
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("abandoned", execution.ToString());
        execution.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("its stored record cannot be read");
        execution.GetProperty("damage").GetString().ShouldNotBeNull().ShouldContain("requester");
        execution.GetProperty("requester").GetProperty("door").GetString().ShouldBe("unknown");

        // Give a wrongly resumed run the time to show itself, then check it did not.
        await Task.Delay(TimeSpan.FromSeconds(3));
        (await StatusAsync(api, id)).ShouldBe("abandoned");
        (await File.ReadAllLinesAsync(flow.Log)).ShouldBe(["step1", "gate-start"]);
    }

    [Fact]
    public async Task KillNine_WhileAWorkflowIsPaused_RestartKeepsItPaused_AndResumeFinishesIt()
    {
        using var flow = new FlowHome();

        long id;
        await using (var first = await ServerChild.StartAsync(flow.Home.Path, flow.Port))
        {
            using var client = await ServerChild.SignInAsync(flow.Port);
            id = await flow.StartInTheMiddleAsync(client);
            (await client.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { })).EnsureSuccessStatusCode();
            await File.WriteAllTextAsync(flow.Flag, "open");
            await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(client, id) == "paused", TimeSpan.FromSeconds(60));
            await first.KillNineAsync(); // while paused
        }

        await using var second = await ServerChild.StartAsync(flow.Home.Path, flow.Port);
        using var api = await ServerChild.SignInAsync(flow.Port);
        await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(api, id) == "paused", TimeSpan.FromSeconds(60));
        (await File.ReadAllTextAsync(flow.Log)).ShouldNotContain("step3");

        var resumed = await api.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { });
        resumed.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(flow.Log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
    }

    [Fact]
    public async Task KillNine_InTheMiddleOfAWithItemsRun_RestartFinishesEveryItemExactlyOnce()
    {
        using var home = new TestHome();
        var port = CliTests.FreePort();
        WorkflowPacks.WriteItems(home);
        var log = Path.Combine(home.Path, "items.log");
        var flag = Path.Combine(home.Path, "gate.open");
        long id;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "wi.items", parameters = new { log, flag } });
            created.EnsureSuccessStatusCode();
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

            // Items 0-9 end; 10 and 11 wait at the gate.
            await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllLines(log).Length == 10), TimeSpan.FromSeconds(60));
            await ExecutionFlowTests.WaitUntilAsync(async () => await ItemRunsAsync(client) == 12, TimeSpan.FromSeconds(30));
            await first.KillNineAsync();
            first.KillLeftBehind();
        }

        // The run is stored as its state at the start and the steps since: the restart reads it back from them.
        var database = Path.Combine(home.Path, "data", "opsrobot.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM workflow_steps WHERE execution_id = {id}";
            ((long)(await command.ExecuteScalarAsync())!).ShouldBeGreaterThan(5);
        }

        await File.WriteAllTextAsync(flag, "open");
        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);
        var execution = await WaitFinishedAsync(api, id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        var lines = await File.ReadAllLinesAsync(log);
        lines.Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(0, 30).Select(n => $"item-{n}").Order(StringComparer.Ordinal), string.Join(", ", lines));
        lines.Take(10).ShouldBe(Enumerable.Range(0, 10).Select(n => $"item-{n}"), ignoreOrder: true);
    }

    private static async Task<int> ItemRunsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=wi.item&limit=100")).GetProperty("executions").GetArrayLength();

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

    /// <summary>A home with the <c>wf</c> pack, its step log and gate flag, and the port each server over it listens on.</summary>
    private sealed class FlowHome : IDisposable
    {
        public TestHome Home { get; } = new();

        public int Port { get; } = CliTests.FreePort();

        public string Log => Path.Combine(Home.Path, "steps.log");

        public string Flag => Path.Combine(Home.Path, "gate.open");

        public FlowHome() => WorkflowPacks.WriteFlow(Home);

        /// <summary>Starts <c>wf.flow</c> and waits until step1 is done and the gate runs: the workflow is in its middle.</summary>
        public async Task<long> StartInTheMiddleAsync(HttpClient client)
        {
            var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log = Log, flag = Flag } });
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(Log) && File.ReadAllText(Log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
            return id;
        }

        /// <summary>Starts a server, starts <c>wf.flow</c>, and kills the server with -9 in the workflow's middle.</summary>
        public async Task<long> KillNineInTheMiddleAsync()
        {
            await using var first = await ServerChild.StartAsync(Home.Path, Port);
            using var client = await ServerChild.SignInAsync(Port);
            var id = await StartInTheMiddleAsync(client);
            await first.KillNineAsync();

            // The killed server's gate loop outlives it (its own process group); stop it so only the resumed run writes.
            first.KillLeftBehind();
            return id;
        }

        public void Dispose() => Home.Dispose();
    }
}
