using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// Other processes on a live server's data folder (the shell chat, <c>opsrobot user add</c>, a second server that
/// cannot listen) leave its work alone: only the work of processes that are gone is recovered. And an address that
/// cannot be listened on is one sentence, said before the store is touched.
/// </summary>
public sealed class SecondProcessTests
{
    internal static void WriteSleepPack(TestHome home, string marker)
    {
        home.Write("packs/life/pack.yaml", "name: life\nversion: 0.1.0\ndescription: Lifecycle tests\n");
        home.Write("packs/life/actions/nap.yaml", $$$"""
            name: nap
            runner_type: shell
            timeout: 600
            parameters:
              cmd:
                type: string
                immutable: true
                default: ": {{{marker}}}; echo started; sleep {{ seconds }}; echo done"
              seconds: {type: integer, default: 300}
            """);
        home.Write("packs/life/aliases/nap.yaml", """
            name: nap
            action_ref: life.nap
            description: Sleeps
            formats: ["nap {{ seconds }}"]
            """);
    }

    [Fact]
    public async Task ShellUserAddAndASecondServer_OnTheSameDataFolder_LeaveTheServersRunningExecutionAlone()
    {
        using var home = new TestHome();
        var marker = Path.Combine(home.Path, "second-process.marker");
        WriteSleepPack(home, marker);
        var port = CliTests.FreePort();
        try
        {
            await using var server = await ServerChild.StartAsync(home.Path, port);
            using var api = await ServerChild.SignInAsync(port);
            var created = await api.PostAsJsonAsync("/api/v1/executions", new { action = "life.nap", parameters = new { seconds = 300 } });
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(api, id) == "running", TimeSpan.FromSeconds(60));

            var userAdd = await OpsRobotProcess.RunAsync(home.Path, ["user", "add", "dave", "--role", "operator"], "dave-password-1\n");
            userAdd.ExitCode.ShouldBe(0, userAdd.StandardError);
            await ShouldStillRunAsync(api, id, server, "after opsrobot user add");

            var shell = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "admin"], "!ping\n");
            shell.ExitCode.ShouldBe(0, shell.StandardError);
            shell.StandardOutput.ShouldContain("pong");
            await ShouldStillRunAsync(api, id, server, "after the shell chat");

            var second = await OpsRobotProcess.RunAsync(home.Path, ["serve", "--listen", $"http://127.0.0.1:{port}"],
                environment: new Dictionary<string, string> { ["OPSROBOT__ADMIN__PASSWORD"] = RunningServer.AdminPassword });
            second.ExitCode.ShouldBe(2, second.StandardOutput + second.StandardError);
            second.StandardError.ShouldContain($"Cannot listen on http://127.0.0.1:{port}: the port is already in use");
            (second.StandardOutput + second.StandardError).ShouldNotContain("abandoned", Case.Insensitive);
            await ShouldStillRunAsync(api, id, server, "after a second server failed to listen");

            // Still the live server's to finish: a cancel reaches its process tree.
            (await api.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { })).EnsureSuccessStatusCode();
            await ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(api, id) == "canceled", TimeSpan.FromSeconds(60));
            server.Output.ShouldNotContain("abandoned", Case.Insensitive);
        }
        finally
        {
            Orphans.KillGroupsMentioning(marker);
        }
    }

    [Theory]
    [InlineData("an address this machine does not have (TEST-NET-1)", "http://192.0.2.1:5399", "this machine has no such address")]
    public async Task Serve_OnAnAddressItCannotListenOn_SaysWhyInASentence_BeforeTouchingTheStore(string row, string listen, string sentence)
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["--listen", listen]);

        result.ExitCode.ShouldBe(2, row);
        result.StandardError.Trim().ShouldBe(result.StandardError.Trim().Split('\n')[0], "one line");
        result.StandardError.ShouldStartWith($"opsrobot: Cannot listen on {listen}: {sentence}.", Case.Sensitive, row);
        result.StandardError.ShouldNotContain("Exception");
        result.StandardError.ShouldNotContain("   at ");
        File.Exists(Path.Combine(home.Path, "data", "opsrobot.db")).ShouldBeFalse("nothing is recovered or migrated by a server that cannot listen");
    }

    private static async Task ShouldStillRunAsync(HttpClient api, long id, ServerChild server, string when)
    {
        var execution = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
        execution.GetProperty("status").GetString().ShouldBe("running", $"{when}: {execution}\nServer:\n{server.Output}");
        execution.GetProperty("error").ValueKind.ShouldBe(JsonValueKind.Null, when);
    }

    internal static async Task<string?> StatusAsync(HttpClient client, long execution) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{execution}")).GetProperty("status").GetString();
}
