using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>Workflows run as actions through the API, in the real server, with real shell actions as their tasks.</summary>
public sealed class WorkflowExecutionTests : IAsyncLifetime
{
    private WorkflowWorld _world = null!;

    public async Task InitializeAsync() => _world = await WorkflowWorld.StartAsync();

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task Workflow_RunsEachTaskAsAChildExecution_AndEndsWithItsOutput()
    {
        await File.WriteAllTextAsync(_world.Flag, "open");

        var id = await _world.StartFlowAsync();
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("gated").GetBoolean().ShouldBeTrue();
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        (await _world.ChildrenAsync(id, "wf.mark")).Count.ShouldBe(2);
        (await _world.ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("succeeded");

        var view = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow");
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
        var id = await _world.StartAsync("wf.mark", new { name = "x", log = _world.Log });

        var response = await _world.Admin.GetAsync($"/api/v1/executions/{id}/workflow");
        var missing = await _world.Admin.GetAsync("/api/v1/executions/999999/workflow");

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("is not a workflow");
        missing.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WorkflowView_WhoseStoredStateCannotBeRead_AnswersConflictWithTheReason_NotAServerError()
    {
        await File.WriteAllTextAsync(_world.Flag, "open");
        var id = await _world.StartFlowAsync();
        await _world.WaitFinishedAsync(id);
        var database = Path.Combine(_world.Server.Home.Path, "data", "opsrobot.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE workflow_runs SET state = 'null' WHERE execution_id = {id}";
            (await command.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        var response = await _world.Admin.GetAsync($"/api/v1/executions/{id}/workflow");

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
        (await response.Content.ReadAsStringAsync()).ShouldContain("is empty");
    }

    [Fact]
    public async Task Subworkflow_RunsAsAChildExecution_AndItsOutputIsTheTaskResult()
    {
        await File.WriteAllTextAsync(_world.Flag, "open");
        _world.Server.Home.Write("packs/wf/actions/outer.yaml", """
            name: outer
            runner_type: workflow
            entry_point: workflows/outer.yaml
            parameters:
              log: {type: string, required: true}
              flag: {type: string, required: true}
            """);
        _world.Server.Home.Write("packs/wf/actions/workflows/outer.yaml", """
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
        await _world.ReloadPacksAsync();

        var id = await _world.StartAsync("wf.outer", new { log = _world.Log, flag = _world.Flag });
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("inner_gated").GetBoolean().ShouldBeTrue();
        var inner = (await _world.ChildrenAsync(id, "wf.flow")).ShouldHaveSingleItem();
        (await _world.ChildrenAsync(inner.GetProperty("id").GetInt64(), "wf.mark")).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Pause_WhileATaskRuns_LetsItFinishStartsNothing_ThenResumeCarriesOn()
    {
        var id = await _world.StartFlowAsync();
        await _world.WaitForGateAsync();

        var paused = await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { });
        paused.EnsureSuccessStatusCode();
        (await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("workflowStatus").GetString().ShouldBe("pausing");
        await File.WriteAllTextAsync(_world.Flag, "open");
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow")).GetProperty("status").GetString() == "paused", TimeSpan.FromSeconds(30));

        (await File.ReadAllTextAsync(_world.Log)).ShouldNotContain("step3");
        await _world.WaitForStatusAsync(id, "paused");
        (await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { })).StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
        (await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { })).EnsureSuccessStatusCode();
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        (await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { })).StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PauseAndResume_FromTheApi_ByOthers_AreForbiddenToViewersAndHiddenFromWhoCannotSeeIt()
    {
        using var bob = await _world.Server.CreateUserAsync("bob");
        using var carol = await _world.Server.CreateUserAsync("carol", "password-" + "for-tests", "guest");
        var id = await _world.StartFlowAsync();
        await _world.WaitForGateAsync();

        var byViewer = await bob.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { });
        var byGuest = await carol.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { });
        var missing = await _world.Admin.PostAsJsonAsync("/api/v1/executions/999999/pause", new { });

        byViewer.StatusCode.ShouldBe(System.Net.HttpStatusCode.Forbidden);
        (await byViewer.Content.ReadAsStringAsync()).ShouldContain($"You need `workflow.manage` on `wf.flow` to pause execution #{id}.");
        // The refusal is an access attempt: the audit has it as a deny.
        var audit = (await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?actor=bob&limit=200")).GetProperty("records").EnumerateArray().ToList();
        audit.ShouldContain(r => r.GetProperty("kind").GetString() == "decision" && r.GetProperty("decision").GetString() == "deny"
            && r.GetProperty("subject").GetString()!.StartsWith($"workflow.manage on execution {id} (wf.flow)", StringComparison.Ordinal), JsonSerializer.Serialize(audit));
        // A guest may not see the execution, so it learns nothing of it (not even its action), as from GET or cancel.
        byGuest.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        var hidden = await byGuest.Content.ReadAsStringAsync();
        hidden.ShouldContain($"Execution #{id} is not a workflow running on this server.");
        hidden.ShouldNotContain("wf.flow");
        missing.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        (await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString().ShouldBe("running");
        await File.WriteAllTextAsync(_world.Flag, "open");
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task PauseAndResume_FromChat_MoveTheExecutionRecord_AndAreRefusedToOthers()
    {
        await _world.CreateRoomAsync();
        using var bob = await _world.Server.CreateUserAsync("bob");
        (await bob.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).EnsureSuccessStatusCode();
        var id = await _world.StartFlowAsync();
        await _world.WaitForGateAsync();

        await WorkflowWorld.SayAsync(bob, $"!pause {id}");
        (await _world.RobotSaidAsync(1))[0].ShouldBe($"You need `workflow.manage` on `wf.flow` for execution #{id} (it is not yours).");
        await WorkflowWorld.SayAsync(_world.Admin, $"!pause #{id}");
        (await _world.RobotSaidAsync(2))[1].ShouldBe($"`wf.flow` #{id}: pausing.");
        (await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString().ShouldBeOneOf("pausing", "paused");
        await File.WriteAllTextAsync(_world.Flag, "open");
        await _world.WaitForStatusAsync(id, "paused");
        (await File.ReadAllTextAsync(_world.Log)).ShouldNotContain("step3");

        await WorkflowWorld.SayAsync(bob, $"!resume {id}");
        (await _world.RobotSaidAsync(3))[2].ShouldBe($"You need `workflow.manage` on `wf.flow` for execution #{id} (it is not yours).");
        (await File.ReadAllTextAsync(_world.Log)).ShouldNotContain("step3");
        await WorkflowWorld.SayAsync(_world.Admin, $"!resume {id}");
        (await _world.RobotSaidAsync(4))[3].ShouldBe($"`wf.flow` #{id}: resuming.");
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        await WorkflowWorld.SayAsync(_world.Admin, $"!resume {id}");
        (await _world.RobotSaidAsync(5))[4].ShouldBe($"`wf.flow` #{id} already ended: succeeded; there is nothing to resume.");
    }

    [Theory]
    [InlineData("not a number", "!pause soon", "Usage: `!pause ID`")]
    [InlineData("no such execution", "!resume 99999", "There is no execution #99999.")]
    public async Task PauseCommand_BadId_SaysWhat(string row, string line, string expected)
    {
        await _world.CreateRoomAsync();

        await WorkflowWorld.SayAsync(_world.Admin, line);

        (await _world.RobotSaidAsync(1))[0].ShouldContain(expected, Case.Sensitive, row);
    }

    [Fact]
    public async Task PauseCommand_OnAnExecutionThatIsNoWorkflow_SaysOnlyWorkflowsPause()
    {
        await _world.CreateRoomAsync();
        var id = await _world.StartAsync("wf.gate", new { log = _world.Log, flag = _world.Flag });
        await _world.WaitForGateAsync();

        await WorkflowWorld.SayAsync(_world.Admin, $"!pause {id}");

        (await _world.RobotSaidAsync(1))[0].ShouldBe($"`wf.gate` #{id} is not a workflow; only workflows pause and resume. Use `!cancel {id}` to stop it.");
        await File.WriteAllTextAsync(_world.Flag, "open");
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task PauseAndResume_FromTheCli_PrintWhereTheWorkflowStands_AndRefuseWhatCannotBeDone()
    {
        var env = await _world.CliEnvironmentAsync();
        Task<ProcessResult> Cli(params string[] args) => OpsRobotProcess.RunAsync(_world.Server.Home.Path, args, environment: env);
        var id = await _world.StartFlowAsync();
        var number = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _world.WaitForGateAsync();

        var pause = await Cli("execution", "pause", number);
        pause.ExitCode.ShouldBe(0, pause.StandardError);
        pause.StandardOutput.ShouldContain($"workflow {number} is pausing");
        await File.WriteAllTextAsync(_world.Flag, "open");
        await _world.WaitForStatusAsync(id, "paused");
        var again = await Cli("execution", "pause", number);
        var resume = await Cli("execution", "resume", number);
        var execution = await _world.WaitFinishedAsync(id);
        var step1 = (await _world.ChildrenAsync(id, "wf.mark")).OrderBy(c => c.GetProperty("id").GetInt64()).First().GetProperty("id").GetInt64();
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
        _world.Server.Home.Write("packs/wf/actions/short.yaml", """
            name: short
            runner_type: workflow
            entry_point: workflows/flow.yaml
            timeout: 2
            parameters:
              log: {type: string, required: true}
              flag: {type: string, required: true}
            """);
        await _world.ReloadPacksAsync();
        var id = await _world.StartAsync("wf.short", new { log = _world.Log, flag = _world.Flag });
        await _world.WaitForGateAsync();

        // The action's time limit runs on the real clock; the runner reads the test clock to tell a timeout from a stop.
        _world.Server.Time.Advance(TimeSpan.FromSeconds(3));
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("timeout", execution.ToString());
        (await _world.ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("canceled");
        (await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow")).GetProperty("status").GetString().ShouldBe("canceled");
    }

    [Fact]
    public async Task Cancel_WhileATaskRuns_CancelsTheChildAndStartsNothingMore()
    {
        var id = await _world.StartFlowAsync();
        await _world.WaitForGateAsync();

        (await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { })).EnsureSuccessStatusCode();
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("canceled", execution.ToString());
        (await _world.ChildrenAsync(id, "wf.gate")).ShouldHaveSingleItem().GetProperty("status").GetString().ShouldBe("canceled");
        (await _world.ChildrenAsync(id, "wf.mark")).Count.ShouldBe(1);
        (await File.ReadAllTextAsync(_world.Log)).ShouldNotContain("step3");
    }

    [Fact]
    public async Task Workflow_WhoseTaskNamesAnUnknownAction_FailsWithTheReason()
    {
        _world.Server.Home.Write("packs/wf/actions/broken.yaml", "name: broken\nrunner_type: workflow\nentry_point: workflows/broken.yaml\n");
        _world.Server.Home.Write("packs/wf/actions/workflows/broken.yaml", "version: 1.0\ntasks:\n  a:\n    action: wf.nope\n");
        await _world.ReloadPacksAsync();

        var execution = await _world.WaitFinishedAsync(await _world.StartAsync("wf.broken"));

        execution.GetProperty("status").GetString().ShouldBe("failed");
        execution.GetProperty("error").GetString()!.ShouldContain("Execution failed");
        execution.GetProperty("result").GetProperty("errors")[0].GetProperty("result").GetProperty("error").GetString()!.ShouldContain("There is no action wf.nope");
    }
}
