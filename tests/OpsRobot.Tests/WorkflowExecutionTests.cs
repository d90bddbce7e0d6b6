using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>Workflows run as actions through the API, in the real server, with real shell actions as their tasks.</summary>
public sealed class WorkflowExecutionTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private ApiClient _admin = null!;
    private string _log = null!;
    private string _flag = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        WorkflowCrashRecoveryTests.WritePack(home);
        _log = Path.Combine(home.Path, "steps.log");
        _flag = Path.Combine(home.Path, "gate.open");
        _server = await RunningServer.StartAsync(home: home);
        _admin = await _server.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<long> StartAsync()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log = _log, flag = _flag } });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private async Task<JsonElement> WaitFinishedAsync(long id)
    {
        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned" or "timeout";
        }, TimeSpan.FromSeconds(60));
        return execution;
    }

    private async Task<List<JsonElement>> ChildrenAsync(long id, string action)
    {
        var list = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions?action={action}");
        return [.. list.GetProperty("executions").EnumerateArray().Where(e => e.TryGetProperty("parentId", out var p) && p.ValueKind == JsonValueKind.Number && p.GetInt64() == id)];
    }

    [Fact]
    public async Task Workflow_RunsEachTaskAsAChildExecution_AndEndsWithItsOutput()
    {
        await File.WriteAllTextAsync(_flag, "open");

        var id = await StartAsync();
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("gated").GetBoolean().ShouldBeTrue();
        (await File.ReadAllLinesAsync(_log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        (await ChildrenAsync(id, "wf.mark")).Count.ShouldBe(2);
        (await ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("succeeded");

        var view = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow");
        view.GetProperty("status").GetString().ShouldBe("succeeded");
        view.GetProperty("tasks").EnumerateArray().Select(t => $"{t.GetProperty("id").GetString()}:{t.GetProperty("status").GetString()}")
            .ShouldBe(["step1:succeeded", "gate:succeeded", "step3:succeeded"]);
        view.GetProperty("edges").EnumerateArray().Select(e => $"{e.GetProperty("from").GetString()}->{e.GetProperty("to").GetString()}")
            .ShouldBe(["step1->gate", "gate->step3"]);
        view.GetProperty("sequence").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe(["step1", "gate", "step3"]);
    }

    [Fact]
    public async Task WorkflowView_OfAnExecutionThatIsNoWorkflow_IsNotFound()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.mark", parameters = new { name = "x", log = _log } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var response = await _admin.GetAsync($"/api/v1/executions/{id}/workflow");
        var missing = await _admin.GetAsync("/api/v1/executions/999999/workflow");

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("is not a workflow");
        missing.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Subworkflow_RunsAsAChildExecution_AndItsOutputIsTheTaskResult()
    {
        await File.WriteAllTextAsync(_flag, "open");
        _server.Home.Write("packs/wf/actions/outer.yaml", """
            name: outer
            runner_type: workflow
            entry_point: workflows/outer.yaml
            parameters:
              log: {type: string, required: true}
              flag: {type: string, required: true}
            """);
        _server.Home.Write("packs/wf/actions/workflows/outer.yaml", """
            version: 1.0
            input:
              - log
              - flag
            tasks:
              inner:
                action: wf.flow log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    publish: inner_gated=<% result().output.gated %>
            output:
              - inner_gated: <% ctx(inner_gated) %>
            """);
        (await _admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).EnsureSuccessStatusCode();

        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.outer", parameters = new { log = _log, flag = _flag } });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("inner_gated").GetBoolean().ShouldBeTrue();
        var inner = (await ChildrenAsync(id, "wf.flow")).ShouldHaveSingleItem();
        (await ChildrenAsync(inner.GetProperty("id").GetInt64(), "wf.mark")).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Pause_WhileATaskRuns_LetsItFinishStartsNothing_ThenResumeCarriesOn()
    {
        var id = await StartAsync();
        await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(_log) && File.ReadAllText(_log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

        var paused = await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { });
        paused.EnsureSuccessStatusCode();
        (await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("workflowStatus").GetString().ShouldBe("pausing");
        await File.WriteAllTextAsync(_flag, "open");
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow")).GetProperty("status").GetString() == "paused", TimeSpan.FromSeconds(30));

        (await File.ReadAllTextAsync(_log)).ShouldNotContain("step3");
        await WaitForStatusAsync(id, "paused");
        (await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { })).StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
        (await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { })).EnsureSuccessStatusCode();
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(_log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        (await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { })).StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    private async Task WaitForStatusAsync(long id, string status) =>
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString() == status, TimeSpan.FromSeconds(30));

    private async Task WaitForGateAsync() =>
        await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(_log) && File.ReadAllText(_log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

    private static async Task SayAsync(ApiClient who, string text) =>
        (await who.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted);

    private async Task<List<string>> RobotSaidAsync(int count)
    {
        List<string> robot = [];
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var history = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            robot = [.. history.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot")
                .Select(m => m.GetProperty("text").GetString()!)];
            return robot.Count >= count;
        }, TimeSpan.FromSeconds(30));
        return robot;
    }

    [Fact]
    public async Task PauseAndResume_FromChat_MoveTheExecutionRecord_AndAreRefusedToOthers()
    {
        (await _admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
        using var bob = await _server.CreateUserAsync("bob");
        (await bob.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).EnsureSuccessStatusCode();
        var id = await StartAsync();
        await WaitForGateAsync();

        await SayAsync(bob, $"!pause {id}");
        (await RobotSaidAsync(1))[0].ShouldBe($"You need `workflow.manage` on `wf.flow` for execution #{id} (it is not yours).");
        await SayAsync(_admin, $"!pause #{id}");
        (await RobotSaidAsync(2))[1].ShouldBe($"`wf.flow` #{id}: pausing.");
        (await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString().ShouldBeOneOf("pausing", "paused");
        await File.WriteAllTextAsync(_flag, "open");
        await WaitForStatusAsync(id, "paused");
        (await File.ReadAllTextAsync(_log)).ShouldNotContain("step3");

        await SayAsync(bob, $"!resume {id}");
        (await RobotSaidAsync(3))[2].ShouldBe($"You need `workflow.manage` on `wf.flow` for execution #{id} (it is not yours).");
        (await File.ReadAllTextAsync(_log)).ShouldNotContain("step3");
        await SayAsync(_admin, $"!resume {id}");
        (await RobotSaidAsync(4))[3].ShouldBe($"`wf.flow` #{id}: resuming.");
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(_log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        await SayAsync(_admin, $"!resume {id}");
        (await RobotSaidAsync(5))[4].ShouldBe($"`wf.flow` #{id} already ended: succeeded; there is nothing to resume.");
    }

    [Theory]
    [InlineData("not a number", "!pause soon", "Usage: `!pause ID`")]
    [InlineData("no such execution", "!resume 99999", "There is no execution #99999.")]
    public async Task PauseCommand_BadId_SaysWhat(string row, string line, string expected)
    {
        (await _admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();

        await SayAsync(_admin, line);

        (await RobotSaidAsync(1))[0].ShouldContain(expected, Case.Sensitive, row);
    }

    [Fact]
    public async Task PauseCommand_OnAnExecutionThatIsNoWorkflow_SaysOnlyWorkflowsPause()
    {
        (await _admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.gate", parameters = new { log = _log, flag = _flag } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await WaitForGateAsync();

        await SayAsync(_admin, $"!pause {id}");

        (await RobotSaidAsync(1))[0].ShouldBe($"`wf.gate` #{id} is not a workflow; only workflows pause and resume. Use `!cancel {id}` to stop it.");
        await File.WriteAllTextAsync(_flag, "open");
        (await WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task PauseAndResume_FromTheCli_PrintWhereTheWorkflowStands_AndRefuseWhatCannotBeDone()
    {
        var env = new Dictionary<string, string> { ["OPSROBOT_URL"] = _server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = await _server.AdminKeyAsync() };
        Task<ProcessResult> Cli(params string[] args) => OpsRobotProcess.RunAsync(_server.Home.Path, args, environment: env);
        var id = await StartAsync();
        var number = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await WaitForGateAsync();

        var pause = await Cli("execution", "pause", number);
        pause.ExitCode.ShouldBe(0, pause.StandardError);
        pause.StandardOutput.ShouldContain($"workflow {number} is pausing");
        await File.WriteAllTextAsync(_flag, "open");
        await WaitForStatusAsync(id, "paused");
        var again = await Cli("execution", "pause", number);
        var resume = await Cli("execution", "resume", number);
        var execution = await WaitFinishedAsync(id);
        var step1 = (await ChildrenAsync(id, "wf.mark")).OrderBy(c => c.GetProperty("id").GetInt64()).First().GetProperty("id").GetInt64();
        var notWorkflow = await Cli("execution", "pause", step1.ToString(System.Globalization.CultureInfo.InvariantCulture));

        again.ExitCode.ShouldBe(2, again.StandardOutput);
        again.StandardError.ShouldNotBeEmpty();
        resume.ExitCode.ShouldBe(0, resume.StandardError);
        resume.StandardOutput.ShouldContain($"workflow {number} is resuming");
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        notWorkflow.ExitCode.ShouldBe(2, notWorkflow.StandardOutput);
        notWorkflow.StandardError.ShouldContain("is not a workflow running on this server");
    }

    [Fact]
    public async Task Timeout_OfTheWorkflowAction_CancelsTheRunningChildAndEndsTheWorkflow()
    {
        _server.Home.Write("packs/wf/actions/short.yaml", """
            name: short
            runner_type: workflow
            entry_point: workflows/flow.yaml
            timeout: 2
            parameters:
              log: {type: string, required: true}
              flag: {type: string, required: true}
            """);
        (await _admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).EnsureSuccessStatusCode();
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.short", parameters = new { log = _log, flag = _flag } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(_log) && File.ReadAllText(_log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

        // The action's time limit runs on the real clock; the runner reads the test clock to tell a timeout from a stop.
        _server.Time.Advance(TimeSpan.FromSeconds(3));
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("timeout", execution.ToString());
        (await ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("canceled");
        (await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow")).GetProperty("status").GetString().ShouldBe("canceled");
    }

    [Fact]
    public async Task Cancel_WhileATaskRuns_CancelsTheChildAndStartsNothingMore()
    {
        var id = await StartAsync();
        await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(_log) && File.ReadAllText(_log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

        (await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { })).EnsureSuccessStatusCode();
        var execution = await WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("canceled", execution.ToString());
        (await ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("canceled");
        (await ChildrenAsync(id, "wf.mark")).Count.ShouldBe(1);
        (await File.ReadAllTextAsync(_log)).ShouldNotContain("step3");
    }

    [Fact]
    public async Task Workflow_WhoseTaskNamesAnUnknownAction_FailsWithTheReason()
    {
        _server.Home.Write("packs/wf/actions/broken.yaml", "name: broken\nrunner_type: workflow\nentry_point: workflows/broken.yaml\n");
        _server.Home.Write("packs/wf/actions/workflows/broken.yaml", "version: 1.0\ntasks:\n  a:\n    action: wf.nope\n");
        (await _admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).EnsureSuccessStatusCode();

        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "wf.broken" });
        created.EnsureSuccessStatusCode();
        var execution = await WaitFinishedAsync((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());

        execution.GetProperty("status").GetString().ShouldBe("failed");
        execution.GetProperty("error").GetString()!.ShouldContain("Execution failed");
        execution.GetProperty("result").GetProperty("errors")[0].GetProperty("result").GetProperty("error").GetString()!.ShouldContain("There is no action wf.nope");
    }
}
