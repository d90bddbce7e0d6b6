using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// kill -9 in the middle of a workflow with a secret input, then a restart: the resumed run, which the execution service
/// no longer runs, still masks its secret in the steps it starts and in its own result (recomputed from its sealed state).
/// </summary>
public sealed class SecretMaskingCrashTests
{
    private const string Password = "TopSecretPW42";

    [Fact]
    public async Task KillNine_InTheMiddleOfAWorkflowWithASecretInput_TheResumedRunStillMasksItInItsSteps()
    {
        using var home = new TestHome();
        var port = CliTests.FreePort();
        WorkflowPacks.WriteFlow(home);
        WorkflowPacks.WriteTell(home);
        home.Write("packs/leak/actions/gated.yaml", """
            name: gated
            runner_type: workflow
            entry_point: workflows/gated.yaml
            timeout: 600
            parameters:
              password: {type: string, secret: true, required: true}
              log: {type: string, required: true}
              flag: {type: string, required: true}
              file: {type: string, required: true}
            """);
        home.Write("packs/leak/actions/workflows/gated.yaml", """
            version: 1.0
            input:
              - password
              - log
              - flag
              - file
            tasks:
              gate:
                action: wf.gate log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    do: say
              say:
                action: leak.tell message="pw is <% ctx(password) %>" file=<% ctx(file) %>
            output:
              - echoed: pw is <% ctx(password) %>
            """);
        var log = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        var file = Path.Combine(home.Path, "said.txt");

        long id;
        await using (var first = await ServerChild.StartAsync(home.Path, port))
        {
            using var client = await ServerChild.SignInAsync(port);
            var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "leak.gated", parameters = new { password = Password, log, flag, file } });
            created.EnsureSuccessStatusCode();
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
            await first.KillNineAsync();
            first.KillLeftBehind();
        }

        await File.WriteAllTextAsync(flag, "open");
        await using var second = await ServerChild.StartAsync(home.Path, port);
        using var api = await ServerChild.SignInAsync(port);
        JsonElement workflow = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            workflow = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return workflow.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(90));

        workflow.GetProperty("status").GetString().ShouldBe("succeeded", workflow.ToString());
        workflow.ToString().ShouldNotContain(Password, customMessage: "the resumed workflow's own result");
        workflow.GetProperty("result").ToString().ShouldContain("pw is ********");
        var steps = (await api.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=leak.tell&limit=10")).GetProperty("executions").EnumerateArray().ToList();
        var step = steps.ShouldHaveSingleItem();
        step.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("pw is ********");
        var stepId = step.GetProperty("id").GetInt64();
        (await api.GetStringAsync($"/api/v1/executions/{stepId}")).ShouldNotContain(Password);
        (await api.GetStringAsync($"/api/v1/executions/{stepId}/output?format=text")).ShouldNotContain(Password);
        (await api.GetStringAsync("/api/v1/audit?limit=500")).ShouldNotContain(Password);
        (await File.ReadAllTextAsync(file)).Trim().ShouldBe("pw is " + Password, "the step itself gets the secret in clear");
    }
}
