using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// Re-running a failed workflow from the failed task, in the real server with real shell actions: what succeeded is
/// not run again (its executions are counted), from the API, chat and the CLI.
/// </summary>
public sealed class WorkflowRerunTests : IAsyncLifetime
{
    private WorkflowWorld _world = null!;

    public async Task InitializeAsync() => _world = await WorkflowWorld.StartAsync(WriteActions, flagName: "check.ok");

    public async Task DisposeAsync() => await _world.DisposeAsync();

    /// <summary>A workflow whose middle step fails until the flag file exists, and one with a secret input.</summary>
    private static void WriteActions(TestHome home)
    {
        home.Write("packs/wf/actions/check.yaml", """
            name: check
            runner_type: shell
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo check >> {{ log }}; test -e {{ flag }}"
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/checked.yaml", """
            name: checked
            runner_type: workflow
            entry_point: workflows/checked.yaml
            parameters:
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/workflows/checked.yaml", """
            version: 1.0
            input:
              - log
              - flag
            tasks:
              step1:
                action: wf.mark name=step1 log=<% ctx(log) %>
                next:
                  - when: <% succeeded() %>
                    publish: after=step1
                    do: check
              check:
                action: wf.check log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    do: step3
              step3:
                action: wf.mark name=<% ctx(after) %>-then-step3 log=<% ctx(log) %>
            output:
              - after: <% ctx(after) %>
            """);
        home.Write("packs/wf/actions/secretive.yaml", """
            name: secretive
            runner_type: workflow
            entry_point: workflows/secretive.yaml
            parameters:
              token:
                type: string
                secret: true
                required: true
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/workflows/secretive.yaml", """
            version: 1.0
            input:
              - token
              - log
              - flag
            tasks:
              step1:
                action: wf.mark name=<% ctx(token) %> log=<% ctx(log) %>
                next:
                  - when: <% succeeded() %>
                    do: check
              check:
                action: wf.check log=<% ctx(log) %> flag=<% ctx(flag) %>
            """);
    }

    private async Task<long> StartFailedAsync()
    {
        var id = await _world.StartAsync("wf.checked", new { log = _world.Log, flag = _world.Flag });
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("failed");
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["step1", "check"]);
        return id;
    }

    /// <summary>After a re-run as <paramref name="rerunId"/>: step1 ran once (in the first run), check twice, step3 once.</summary>
    private async Task AssertRanOnceEachAsync(long firstId, long rerunId)
    {
        var rerun = await _world.WaitFinishedAsync(rerunId);
        rerun.GetProperty("status").GetString().ShouldBe("succeeded", rerun.ToString());
        rerun.GetProperty("result").GetProperty("output").GetProperty("after").GetString().ShouldBe("step1");
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["step1", "check", "check", "step1-then-step3"]);
        var marks = await _world.ExecutionsOfAsync("wf.mark");
        marks.Count.ShouldBe(2);
        marks.Count(m => WorkflowWorld.ParentOf(m) == firstId).ShouldBe(1);
        marks.Count(m => WorkflowWorld.ParentOf(m) == rerunId).ShouldBe(1);
        (await _world.ExecutionsOfAsync("wf.check")).Select(WorkflowWorld.ParentOf).Order().ShouldBe([firstId, rerunId]);
        rerun.GetProperty("workflow").GetString().ShouldBe($"/api/v1/executions/{rerunId}/workflow");
        marks[0].GetProperty("workflow").ValueKind.ShouldBe(JsonValueKind.Null);
        var graph = await _world.Admin.GetFromJsonAsync<JsonElement>(rerun.GetProperty("workflow").GetString());
        graph.GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task Rerun_FromTheFailedTask_KeepsWhatSucceeded_AndDoesNotRunItAgain()
    {
        var id = await StartFailedAsync();
        await File.WriteAllTextAsync(_world.Flag, "ok");

        var response = await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/rerun", new { tasks = new[] { "check" } });

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("rerunOf").GetInt64().ShouldBe(id);
        body.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()).ShouldBe(["check"]);
        var rerunId = body.GetProperty("execution").GetProperty("id").GetInt64();
        rerunId.ShouldNotBe(id);
        await AssertRanOnceEachAsync(id, rerunId);
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("failed");
    }

    [Theory]
    [InlineData("a task that succeeded", """{"tasks": ["step1"]}""", HttpStatusCode.Conflict, "Task 'step1' succeeded")]
    [InlineData("no such task", """{"tasks": ["nope"]}""", HttpStatusCode.Conflict, "The workflow has no task 'nope'")]
    [InlineData("a hostile task name", """{"tasks": ["$(reboot)"]}""", HttpStatusCode.BadRequest, "tasks must be a list")]
    [InlineData("not a list", """{"tasks": "check"}""", HttpStatusCode.BadRequest, "")]
    public async Task Rerun_BadRequest_IsRefusedSayingWhy_AndRunsNothing(string row, string json, HttpStatusCode expected, string message)
    {
        var id = await StartFailedAsync();

        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var response = await _world.Admin.PostAsync($"/api/v1/executions/{id}/rerun", content);

        response.StatusCode.ShouldBe(expected, row);
        (await response.Content.ReadAsStringAsync()).ShouldContain(message, Case.Sensitive, row);
        (await _world.ExecutionsOfAsync("wf.checked")).Count.ShouldBe(1, row);
    }

    [Fact]
    public async Task Rerun_OfAWorkflowThatSucceededOrOfAnotherUsersWorkflow_IsRefused()
    {
        await File.WriteAllTextAsync(_world.Flag, "ok");
        var id = await _world.StartAsync("wf.checked", new { log = _world.Log, flag = _world.Flag });
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
        using var bob = await _world.Server.CreateUserAsync("bob");

        var succeeded = await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/rerun", new { });
        var notBobs = await bob.PostAsJsonAsync($"/api/v1/executions/{id}/rerun", new { });

        succeeded.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await succeeded.Content.ReadAsStringAsync()).ShouldContain("there is no failed task to re-run");
        notBobs.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await notBobs.Content.ReadAsStringAsync()).ShouldContain($"You need `workflow.manage` on `wf.checked` to re-run execution #{id}.");
        (await _world.ExecutionsOfAsync("wf.checked")).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Workflow_WithASecretInput_IsStoredEncrypted_AndStillRerunsWithIt()
    {
        const string token = "s3cret-token-7f1c";
        var id = await _world.StartAsync("wf.secretive", new { token, log = _world.Log, flag = _world.Flag });
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("failed");
        await File.WriteAllTextAsync(_world.Flag, "ok");

        var response = await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/rerun", new { });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var rerunId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("execution").GetProperty("id").GetInt64();
        (await _world.WaitFinishedAsync(rerunId)).GetProperty("status").GetString().ShouldBe("succeeded");
        var graph = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{rerunId}/workflow");

        // The step ran with the clear token once; the stored runs (the first and the re-run) never hold it in clear.
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe([token, "check", "check"]);
        graph.GetProperty("status").GetString().ShouldBe("succeeded");
        var database = Path.Combine(_world.Server.Home.Path, "data", "opsrobot.db");
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT execution_id, state, dispatches FROM workflow_runs ORDER BY execution_id";
        var rows = new List<(long Id, string State, string Dispatches)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        rows.Select(r => r.Id).ShouldBe([id, rerunId]);
        foreach (var (_, state, dispatches) in rows)
        {
            state.ShouldStartWith("v1:");
            dispatches.ShouldStartWith("v1:");
            state.ShouldNotContain(token);
        }
    }

    [Fact]
    public async Task Rerun_FromChat_StartsTheRerunAndSaysWhichExecutionItIs_ThenReportsItsEndToTheRoom()
    {
        await _world.CreateRoomAsync();
        var id = await StartFailedAsync();
        await File.WriteAllTextAsync(_world.Flag, "ok");

        await WorkflowWorld.SayAsync(_world.Admin, $"!rerun {id} from check");

        var said = (await _world.RobotSaidAsync(1))[0];
        said.ShouldStartWith($"Re-running `wf.checked` #{id} from `check` as execution #");
        var rerunId = long.Parse(said.Split(" as execution #")[1].Split(';')[0], CultureInfo.InvariantCulture);
        await AssertRanOnceEachAsync(id, rerunId);
        var reported = await _world.RobotSaidAsync(2);
        reported.Count.ShouldBe(2, string.Join("\n", reported));
        reported[1].ShouldStartWith($"`wf.checked` #{rerunId} **succeeded**", Case.Sensitive, string.Join("\n", reported));
    }

    [Fact]
    public async Task Rerun_FromChat_ThatFailsAgain_TellsTheRoomItFailedAndWhy()
    {
        await _world.CreateRoomAsync();
        var id = await StartFailedAsync();

        await WorkflowWorld.SayAsync(_world.Admin, $"!rerun {id}");

        var said = await _world.RobotSaidAsync(2);
        var rerunId = long.Parse(said[0].Split(" as execution #")[1].Split(';')[0], CultureInfo.InvariantCulture);
        said[1].ShouldStartWith($"`wf.checked` #{rerunId} **failed**", Case.Sensitive, string.Join("\n", said));
        said[1].ShouldContain("(task check)", Case.Sensitive, said[1]);
        (await _world.WaitFinishedAsync(rerunId)).GetProperty("status").GetString().ShouldBe("failed");
    }

    [Fact]
    public async Task Rerun_FromTheCli_PrintsTheNewExecution()
    {
        var env = await _world.CliEnvironmentAsync();
        var id = await StartFailedAsync();
        var number = id.ToString(CultureInfo.InvariantCulture);
        var refused = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["execution", "rerun", number, "--tasks", "step1"], environment: env);
        await File.WriteAllTextAsync(_world.Flag, "ok");

        var result = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["execution", "rerun", number], environment: env);

        refused.ExitCode.ShouldBe(2, refused.StandardOutput);
        refused.StandardError.ShouldContain("Task 'step1' succeeded");
        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldContain($" re-runs workflow {number} from check.");
        var rerunId = long.Parse(result.StandardOutput.Split("execution ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        await AssertRanOnceEachAsync(id, rerunId);
    }
}
