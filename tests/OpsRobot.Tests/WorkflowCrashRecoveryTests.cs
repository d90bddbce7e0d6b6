using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>kill -9 in the middle of a workflow, then a restart: the workflow carries on where it was.</summary>
public sealed class WorkflowCrashRecoveryTests
{
    /// <summary>A pack with a three-step workflow whose middle step waits for a file to exist.</summary>
    internal static void WritePack(TestHome home)
    {
        home.Write("packs/wf/pack.yaml", "name: wf\nversion: 0.1.0\ndescription: Workflow crash test\n");
        home.Write("packs/wf/actions/mark.yaml", """
            name: mark
            runner_type: shell
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo {{ name }} >> {{ log }}"
              name:
                type: string
                required: true
              log:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/gate.yaml", """
            name: gate
            runner_type: shell
            timeout: 120
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo gate-start >> {{ log }}; while [ ! -e {{ flag }} ]; do sleep 0.1; done; echo gate-end >> {{ log }}"
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/flow.yaml", """
            name: flow
            runner_type: workflow
            entry_point: workflows/flow.yaml
            timeout: 600
            parameters:
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/workflows/flow.yaml", """
            version: 1.0
            input:
              - log
              - flag
            tasks:
              step1:
                action: wf.mark name=step1 log=<% ctx(log) %>
                next:
                  - when: <% succeeded() %>
                    do: gate
              gate:
                action: wf.gate log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    publish: gated=true
                    do: step3
              step3:
                action: wf.mark name=step3 log=<% ctx(log) %>
            output:
              - gated: <% ctx(gated) %>
            """);
    }

    [Fact]
    public async Task KillNine_InTheMiddleOfAWorkflow_RestartResumesItWithoutRunningCompletedTasksAgain()
    {
        using var home = new TestHome();
        WritePack(home);
        var log = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        var port = CliTests.FreePort();
        var env = new Dictionary<string, string> { ["OPSROBOT__ADMIN__PASSWORD"] = RunningServer.AdminPassword };
        var args = new[] { "serve", "--listen", $"http://127.0.0.1:{port}" };
        using var client = new ApiClient(new System.Net.CookieContainer()) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        long id;
        using (var first = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!)
        {
            try
            {
                await WaitHealthyAsync(client);
                (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();
                var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log, flag } });
                created.EnsureSuccessStatusCode();
                id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

                // step1 is done and the gate runs: the workflow is in the middle.
                await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
                first.Kill(); // SIGKILL: no chance to clean up
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

        // The killed server's gate loop outlives it (its own process group); stop it so only the resumed run writes.
        KillProcessesMentioning(flag);
        await File.WriteAllTextAsync(flag, "open");

        using var second = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!;
        try
        {
            await WaitHealthyAsync(client);
            (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();
            JsonElement execution = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                execution = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
                var status = execution.GetProperty("status").GetString();
                return status is "succeeded" or "failed" or "canceled";
            }, TimeSpan.FromSeconds(90));

            execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
            execution.GetProperty("result").GetProperty("output").GetProperty("gated").GetBoolean().ShouldBeTrue();
            var lines = (await File.ReadAllLinesAsync(log)).ToList();
            lines.Count(l => l == "step1").ShouldBe(1, string.Join(", ", lines));
            lines.Count(l => l == "gate-start").ShouldBe(2, string.Join(", ", lines));
            lines.Count(l => l == "gate-end").ShouldBe(1, string.Join(", ", lines));
            lines.Count(l => l == "step3").ShouldBe(1, string.Join(", ", lines));
            lines[^1].ShouldBe("step3");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            KillProcessesMentioning(flag);
        }
    }

    [Fact]
    public async Task KillNine_WhileAWorkflowIsPaused_RestartKeepsItPaused_AndResumeFinishesIt()
    {
        using var home = new TestHome();
        WritePack(home);
        var log = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        var port = CliTests.FreePort();
        var env = new Dictionary<string, string> { ["OPSROBOT__ADMIN__PASSWORD"] = RunningServer.AdminPassword };
        var args = new[] { "serve", "--listen", $"http://127.0.0.1:{port}" };
        using var client = new ApiClient(new System.Net.CookieContainer()) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        async Task<string?> StatusAsync(long execution) =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{execution}")).GetProperty("status").GetString();

        long id;
        using (var first = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!)
        {
            try
            {
                await WaitHealthyAsync(client);
                (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();
                var created = await client.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log, flag } });
                created.EnsureSuccessStatusCode();
                id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                await ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
                (await client.PostAsJsonAsync($"/api/v1/executions/{id}/pause", new { })).EnsureSuccessStatusCode();
                await File.WriteAllTextAsync(flag, "open");
                await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(id) == "paused", TimeSpan.FromSeconds(60));
                first.Kill(); // SIGKILL while paused
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
            await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(id) == "paused", TimeSpan.FromSeconds(60));
            (await File.ReadAllTextAsync(log)).ShouldNotContain("step3");

            var resumed = await client.PostAsJsonAsync($"/api/v1/executions/{id}/resume", new { });
            resumed.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
            JsonElement execution = default;
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                execution = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
                return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled" or "abandoned";
            }, TimeSpan.FromSeconds(90));

            execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
            (await File.ReadAllLinesAsync(log)).ShouldBe(["step1", "gate-start", "gate-end", "step3"]);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            KillProcessesMentioning(flag);
        }
    }

    private static async Task WaitHealthyAsync(HttpClient client)
    {
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

    private static void KillProcessesMentioning(string text)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(text, StringComparison.Ordinal))
                {
                    Process.GetProcessById(pid).Kill();
                }
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
            }
        }
    }
}
