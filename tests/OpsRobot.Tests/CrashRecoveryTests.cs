using System.Diagnostics;
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
                (await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
                (await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!long job" })).EnsureSuccessStatusCode();
                id = await WaitForRunningAsync(client, "demo.long");

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

        using var second = Process.Start(OpsRobotProcess.StartInfo(home.Path, args, env))!;
        try
        {
            await WaitHealthyAsync(client);
            var execution = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            var history = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");

            execution.GetProperty("status").GetString().ShouldBe("abandoned");
            execution.GetProperty("error").GetString()!.ShouldContain("OpsRobot stopped while this execution was running");
            history.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString()!.ShouldContain($"#{id} was **abandoned**");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            KillOrphans("sleep 61");
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

    /// <summary>The killed server's process group outlives it, as it would in production; the test cleans up after itself.</summary>
    private static void KillOrphans(string commandLine)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (cmd == commandLine)
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
