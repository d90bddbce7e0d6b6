using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// The client verbs (<c>run</c>, <c>execution …</c>, <c>packs reload</c>) as an operator uses them: the real
/// executable as a child process, talking over HTTP to a real server with a real pack of shell actions.
/// </summary>
public sealed class ClientVerbTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private ApiClient _api = null!;
    private string _sandbox = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        _sandbox = ClientVerbPack.WriteTo(home);
        _server = await RunningServer.StartAsync(home: home);
        _api = await _server.SignInAsync();
        _key = await _server.AdminKeyAsync();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Run_SucceedingAction_StreamsStdoutAndStderrAndExitsZero()
    {
        var result = await Cli("run", "clientdemo.say", "message=hello world");

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldBe("hello world\n");
        var stderr = Lines(result.StandardError);
        stderr[0].ShouldBe("err");
        stderr[^1].ShouldMatch(@"^execution \d+ succeeded in \d+\.\ds$");
    }

    [Fact]
    public async Task Run_LiveOutput_IsPrintedBeforeTheExecutionEnds()
    {
        using var process = Process.Start(OpsRobotProcess.StartInfo(_server.Home.Path, ["run", "clientdemo.tick"], Env()))!;
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));

            // The action sleeps 3 seconds between its lines: the first must be here while it still runs.
            first.ShouldBe("one");
            process.HasExited.ShouldBeFalse();
            (await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20))).ShouldBe("two");
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            process.ExitCode.ShouldBe(0);
        }
        finally
        {
            Kill(process);
        }
    }

    [Fact]
    public async Task Run_FailingCommand_ExitsOneAndSaysFailed()
    {
        var result = await Cli("run", "clientdemo.fail");

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldBe("about to fail\n");
        Lines(result.StandardError)[^1].ShouldMatch(@"^execution \d+ failed in \d+\.\ds \(exit code 3\)");
    }

    [Fact]
    public async Task Run_MissingRequiredParameter_ExitsTwoNamingItAndStartsNothing()
    {
        var before = await CountExecutionsAsync();

        var result = await Cli("run", "clientdemo.say");

        result.ExitCode.ShouldBe(2);
        result.StandardOutput.ShouldBeEmpty();
        Lines(result.StandardError).ShouldHaveSingleItem().ShouldStartWith("opsrobot: ");
        result.StandardError.ShouldContain("message");
        (await CountExecutionsAsync()).ShouldBe(before);
    }

    [Theory]
    [InlineData("an unknown action", "clientdemo.nope", "count=1", "clientdemo.nope")]
    [InlineData("text where an integer is declared", "clientdemo.count", "count=many", "count")]
    [InlineData("a parameter the action does not have", "clientdemo.count", "count=1 colour=red", "colour")]
    public async Task Run_RefusedRequest_ExitsTwoWithTheServersError(string row, string action, string parameters, string named)
    {
        var result = await Cli(["run", action, .. parameters.Split(' ')]);

        result.ExitCode.ShouldBe(2, row);
        Lines(result.StandardError).ShouldHaveSingleItem(row).ShouldContain(named, Case.Sensitive, row);
    }

    [Theory]
    [InlineData("split at the first '='", "message=a=b", "a=b\n")]
    [InlineData("key= is the empty string", "message=", "\n")]
    [InlineData("spaces in one shell word", "message=  two  words ", "  two  words \n")]
    [InlineData("quotes are data", "message=it's \"quoted\"", "it's \"quoted\"\n")]
    public async Task Run_KeyValueTokens_ReachTheActionAsTyped(string row, string token, string printed)
    {
        var result = await Cli("run", "clientdemo.say", token);

        result.ExitCode.ShouldBe(0, row + ": " + result.StandardError);
        result.StandardOutput.ShouldBe(printed, row);
    }

    [Theory]
    [InlineData("no '='", "message", "'message'")]
    [InlineData("no name", "=hello", "'=hello'")]
    [InlineData("given twice", "message=a message=b", "'message' is given twice")]
    public async Task Run_MalformedParameterToken_ExitsTwoNamingItAndSendsNothing(string row, string tokens, string named)
    {
        var before = await CountExecutionsAsync();

        var result = await Cli(["run", "clientdemo.say", .. tokens.Split(' ')]);

        result.ExitCode.ShouldBe(2, row);
        Lines(result.StandardError).ShouldHaveSingleItem(row).ShouldContain(named, Case.Sensitive, row);
        (await CountExecutionsAsync()).ShouldBe(before, row);
    }

    [Fact]
    public async Task RunAsync_PrintsOnlyTheId_ThenExecutionGetShowsIt()
    {
        var run = await Cli("run", "clientdemo.say", "message=from async", "--async");

        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.ShouldMatch(@"^\d+\n$");
        run.StandardError.ShouldBeEmpty();
        var id = long.Parse(run.StandardOutput, CultureInfo.InvariantCulture);
        await WaitForStatusAsync(id, "succeeded");

        var get = await Cli("execution", "get", Id(id));

        get.ExitCode.ShouldBe(0, get.StandardError);
        var text = get.StandardOutput;
        text.ShouldStartWith($"execution {id}: clientdemo.say succeeded\n");
        text.ShouldContain("message");
        text.ShouldContain("from async");
        text.ShouldContain("by admin via cli");
        text.ShouldContain("exit code   0");
        text.ShouldEndWith("output:\nfrom async\nerr\n");
    }

    [Fact]
    public async Task ExecutionGet_Json_PrintsTheExecutionAsTheApiHasIt()
    {
        var id = ClientVerbPack.IdFromSummary((await Cli("run", "clientdemo.say", "message=json")).StandardError);

        var get = await Cli("execution", "get", Id(id), "--json");

        get.ExitCode.ShouldBe(0, get.StandardError);
        var json = JsonDocument.Parse(get.StandardOutput).RootElement;
        json.GetProperty("id").GetInt64().ShouldBe(id);
        json.GetProperty("status").GetString().ShouldBe("succeeded");
        json.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("json");
    }

    [Fact]
    public async Task ExecutionList_ShowsTheExecutionInATableAndAsJson()
    {
        var id = ClientVerbPack.IdFromSummary((await Cli("run", "clientdemo.fail")).StandardError);

        var table = await Cli("execution", "list", "--action", "clientdemo.fail");
        var json = await Cli("execution", "list", "--status", "failed", "--limit", "5", "--json");

        table.ExitCode.ShouldBe(0, table.StandardError);
        var lines = Lines(table.StandardOutput);
        lines[0].ShouldMatch(@"^ID\s+ACTION\s+STATUS\s+USER\s+STARTED\s+DURATION$");
        var row = lines.Single(l => l.StartsWith(Id(id) + " ", StringComparison.Ordinal));
        row.ShouldMatch($@"^{id}\s+clientdemo\.fail\s+failed\s+admin via cli\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\.\ds$");
        json.ExitCode.ShouldBe(0, json.StandardError);
        var array = JsonDocument.Parse(json.StandardOutput).RootElement;
        array.ValueKind.ShouldBe(JsonValueKind.Array);
        array.EnumerateArray().ShouldContain(e => e.GetProperty("id").GetInt64() == id);
        array.EnumerateArray().ShouldAllBe(e => e.GetProperty("status").GetString() == "failed");
    }

    [Fact]
    public async Task ExecutionList_BadStatusOrLimit_IsRefusedBeforeAskingTheServer()
    {
        var status = await Cli("execution", "list", "--status", "exploded");
        var limit = await Cli("execution", "list", "--limit", "0");

        status.ExitCode.ShouldNotBe(0);
        status.StandardError.ShouldContain("exploded");
        limit.ExitCode.ShouldNotBe(0);
        limit.StandardError.ShouldContain("--limit must be between 1 and 1000");
    }

    [Fact]
    public async Task Run_Json_PrintsTheFinishedExecutionInsteadOfItsOutput()
    {
        var result = await Cli("run", "clientdemo.fail", "--json");

        result.ExitCode.ShouldBe(1, result.StandardError);
        var json = JsonDocument.Parse(result.StandardOutput).RootElement;
        json.GetProperty("status").GetString().ShouldBe("failed");
        json.GetProperty("exitCode").GetInt32().ShouldBe(3);
        result.StandardOutput.ShouldNotContain("about to fail\n");
        Lines(result.StandardError).ShouldHaveSingleItem().ShouldStartWith($"execution {json.GetProperty("id").GetInt64()} failed");
    }

    [Theory]
    [InlineData("clientdemo.say", "message=tailed", 0, "tailed\n")]
    [InlineData("clientdemo.fail", null, 1, "about to fail\n")]
    public async Task Tail_OfAFinishedExecution_PrintsItsOutputAndExitsWithItsCode(string action, string? parameter, int exitCode, string stdout)
    {
        var run = await Cli(parameter is null ? ["run", action] : ["run", action, parameter]);
        var id = ClientVerbPack.IdFromSummary(run.StandardError);

        var tail = await Cli("execution", "tail", Id(id));

        tail.ExitCode.ShouldBe(exitCode);
        tail.StandardOutput.ShouldBe(stdout);
        Lines(tail.StandardError)[^1].ShouldBe(Lines(run.StandardError)[^1]);
    }

    [Fact]
    public async Task Cancel_OfARunningSleep_MakesItCanceledQuickly()
    {
        var id = long.Parse((await Cli("run", "clientdemo.sleep", "--async")).StandardOutput, CultureInfo.InvariantCulture);
        await WaitForStatusAsync(id, "running");
        var clock = Stopwatch.StartNew();

        var cancel = await Cli("execution", "cancel", Id(id));
        var tail = await Cli("execution", "tail", Id(id));

        cancel.ExitCode.ShouldBe(0, cancel.StandardError);
        cancel.StandardOutput.ShouldMatch($@"^execution {id} is cancel(ing|ed)");
        tail.ExitCode.ShouldBe(5, tail.StandardError);
        Lines(tail.StandardError)[^1].ShouldStartWith($"execution {id} was canceled after ");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), "the sleep lasts 30 seconds; canceling must not wait for it");
        (await StatusAsync(id)).ShouldBe("canceled");
    }

    [Fact]
    public async Task Cancel_OfAFinishedExecution_LeavesItAndSaysSo()
    {
        var id = ClientVerbPack.IdFromSummary((await Cli("run", "clientdemo.say", "message=done")).StandardError);

        var cancel = await Cli("execution", "cancel", Id(id));

        cancel.ExitCode.ShouldBe(0, cancel.StandardError);
        cancel.StandardOutput.ShouldBe($"execution {id} had already finished (succeeded); nothing to cancel.\n");
        (await StatusAsync(id)).ShouldBe("succeeded");
    }

    [Fact]
    public async Task Run_ActionThatTimesOut_ExitsFour()
    {
        var result = await Cli("run", "clientdemo.slow");

        result.ExitCode.ShouldBe(4, result.StandardError);
        Lines(result.StandardError)[^1].ShouldMatch(@"^execution \d+ timed out after \d+\.\ds");
    }

    [Fact]
    public async Task Run_Interrupted_StopsWatchingLeavesTheExecutionRunningAndExits130()
    {
        using var process = Process.Start(OpsRobotProcess.StartInfo(_server.Home.Path, ["run", "clientdemo.sleep"], Env()))!;
        var stderr = process.StandardError.ReadToEndAsync();
        long id = 0;
        try
        {
            await ClientVerbPack.WaitUntilAsync(async () =>
            {
                var running = await ListAsync("action=clientdemo.sleep&status=running");
                id = running.Select(e => e.GetProperty("id").GetInt64()).DefaultIfEmpty(0).Max();
                return id > 0;
            }, TimeSpan.FromSeconds(20), "the sleep to run");

            // Ctrl+C is SIGINT. A test run started in the background (`./build.sh test &`) has SIGINT ignored, and
            // the CLI, like every Unix tool, keeps ignoring it then; SIGTERM takes the same path in the CLI.
            using (var kill = Process.Start("kill", [SigIntIgnored() ? "-TERM" : "-INT", process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            process.ExitCode.ShouldBe(130);
            (await stderr).ShouldBe($"execution {id} still runs; cancel it with: opsrobot execution cancel {id}\n");
            (await StatusAsync(id)).ShouldBe("running");
        }
        finally
        {
            Kill(process);
            if (id > 0)
            {
                await _api.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { });
            }
        }
    }

    [Theory]
    [InlineData("command substitution", "$(touch /tmp/{0})")]
    [InlineData("backticks", "`touch /tmp/{0}`")]
    [InlineData("a second command", "a; touch /tmp/{0}")]
    [InlineData("a second command that would wipe HOME", "a; rm -rf ~")]
    [InlineData("a closing quote", "'; touch /tmp/{0}; '")]
    [InlineData("a newline", "a\ntouch /tmp/{0}")]
    public async Task Run_HostileValue_IsPrintedLiterallyAndRunsNothing(string row, string template)
    {
        var marker = "x-" + Guid.NewGuid().ToString("N");
        var value = string.Format(CultureInfo.InvariantCulture, template, marker);

        var result = await Cli("run", "clientdemo.say", "message=" + value);

        result.ExitCode.ShouldBe(0, row + ": " + result.StandardError);
        result.StandardOutput.ShouldBe(value + "\n", row);
        File.Exists("/tmp/" + marker).ShouldBeFalse(row);
        File.Exists(Path.Combine(_sandbox, ClientVerbPack.Sentinel)).ShouldBeTrue(row);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("cancel")]
    [InlineData("tail")]
    public async Task ExecutionVerb_UnknownId_SaysThereIsNoSuchExecution(string verb)
    {
        var result = await Cli("execution", verb, "987654");

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldBeEmpty();
        result.StandardError.ShouldBe("opsrobot: there is no execution 987654.\n");
    }

    [Theory]
    [InlineData("run", "run clientdemo.say message=hi")]
    [InlineData("run --async", "run clientdemo.say message=hi --async")]
    [InlineData("execution list", "execution list")]
    [InlineData("execution get", "execution get 1")]
    [InlineData("execution cancel", "execution cancel 1")]
    [InlineData("execution tail", "execution tail 1")]
    [InlineData("packs reload", "packs reload")]
    public async Task AnyVerb_NoServer_PrintsOneLineAndExitsThree(string row, string args)
    {
        var url = $"http://127.0.0.1:{ClientVerbPack.FreePort()}";

        var result = await OpsRobotProcess.RunAsync(_server.Home.Path, args.Split(' '), environment: new Dictionary<string, string> { ["OPSROBOT_URL"] = url, ["OPSROBOT_API_KEY"] = _key });

        result.ExitCode.ShouldBe(3, row);
        result.StandardOutput.ShouldBeEmpty(row);
        result.StandardError.ShouldBe($"opsrobot: no OpsRobot server answers at {url}. Start one with: ./opsrobot serve (or set OPSROBOT_URL).\n", row);
    }

    [Fact]
    public async Task UrlOption_OverridesTheEnvironment()
    {
        var result = await OpsRobotProcess.RunAsync(_server.Home.Path, ["execution", "list", "--url", _server.BaseAddress.ToString()],
            environment: new Dictionary<string, string> { ["OPSROBOT_URL"] = $"http://127.0.0.1:{ClientVerbPack.FreePort()}", ["OPSROBOT_API_KEY"] = _key });

        result.ExitCode.ShouldBe(0, result.StandardError);
    }

    [Theory]
    [InlineData("not a URL", "not a url")]
    [InlineData("another scheme", "ftp://127.0.0.1:21")]
    public async Task AnyVerb_BadServerAddress_SaysSoInOneLine(string row, string url)
    {
        var result = await OpsRobotProcess.RunAsync(_server.Home.Path, ["execution", "list", "--url", url]);

        result.ExitCode.ShouldBe(2, row);
        Lines(result.StandardError).ShouldHaveSingleItem(row).ShouldContain("is not a server address", Case.Sensitive, row);
    }

    [Fact]
    public async Task Help_OfEachVerb_HasExamples()
    {
        foreach (var verb in new[] { "run", "execution list", "execution get", "execution cancel", "execution tail", "packs reload" })
        {
            var help = await OpsRobotProcess.RunAsync(_server.Home.Path, [.. verb.Split(' '), "--help"]);

            help.ExitCode.ShouldBe(0, verb);
            help.StandardOutput.ShouldContain("opsrobot " + verb, Case.Sensitive, verb);
            help.StandardOutput.ShouldContain("--url", Case.Sensitive, verb);
        }
    }

    [Fact]
    public async Task PacksReload_WithABrokenPack_ListsWhatLoadedPrintsTheErrorAndExitsOne()
    {
        var clean = await Cli("packs", "reload");
        _server.Home.Write("packs/broken/pack.yaml", "name: broken\nversion: [not, a, version\n");

        var broken = await Cli("packs", "reload");
        File.Delete(Path.Combine(_server.Home.PacksDir, "broken", "pack.yaml"));
        Directory.Delete(Path.Combine(_server.Home.PacksDir, "broken"));
        var again = await Cli("packs", "reload");

        clean.ExitCode.ShouldBe(0, clean.StandardError);
        clean.StandardOutput.ShouldContain("clientdemo 0.1.0 (6 actions");
        clean.StandardError.ShouldBeEmpty();
        broken.ExitCode.ShouldBe(1);
        broken.StandardOutput.ShouldContain("clientdemo 0.1.0");
        broken.StandardError.ShouldContain("pack.yaml:");
        Lines(broken.StandardError)[^1].ShouldMatch(@"^opsrobot: \d+ errors? in the packs\.$");
        again.ExitCode.ShouldBe(0, again.StandardError);
    }

    [Fact]
    public async Task Run_StreamDropsMidway_ReconnectsWithLastEventIdAndPrintsEverythingOnce()
    {
        var lastEventIds = new List<string?>();
        await using var fake = await FakeApiServer.StartAsync(app =>
        {
            app.MapPost("/api/v1/executions", () => Results.Json(FakeExecution("requested"), statusCode: 201));
            app.MapGet("/api/v1/executions/7/output", async (HttpContext http) =>
            {
                var header = http.Request.Headers["Last-Event-ID"].ToString();
                int call;
                lock (lastEventIds)
                {
                    lastEventIds.Add(header.Length == 0 ? null : header);
                    call = lastEventIds.Count;
                }

                http.Response.ContentType = "text/event-stream";
                await Sse(http, "status", JsonSerializer.Serialize(FakeExecution("running")));
                if (call == 1)
                {
                    await Sse(http, "output", """{"seq":1,"kind":"stdout","text":"first\n"}""", "1");
                    await Task.Delay(200);
                    http.Abort();
                    return;
                }

                // A careless server replays chunk 1: the client must not print it twice.
                await Sse(http, "output", """{"seq":1,"kind":"stdout","text":"first\n"}""", "1");
                await Sse(http, "output", """{"seq":2,"kind":"stderr","text":"second\n"}""", "2");
                await Sse(http, "status", JsonSerializer.Serialize(FakeExecution("succeeded")));
            });
        });

        var result = await OpsRobotProcess.RunAsync(_server.Home.Path, ["run", "clientdemo.say", "message=x", "--url", fake.Url]);

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldBe("first\n");
        result.StandardError.ShouldBe("second\nexecution 7 succeeded in 1.5s\n");
        lastEventIds.ShouldBe([null, "1"]);
    }

    [Theory]
    [InlineData("HTML where JSON belongs", 200, "text/html", "<html><body>hello</body></html>")]
    [InlineData("a proxy's error page", 502, "text/html", "<html>Bad Gateway</html>")]
    [InlineData("JSON of another shape", 200, "application/json", "{\"hello\": \"world\"}")]
    [InlineData("truncated JSON", 200, "application/json", "{\"executions\": [")]
    public async Task AnyVerb_AnswerThatIsNotOpsRobots_GivesOneClearLineAndNoStackTrace(string row, int status, string contentType, string body)
    {
        await using var fake = await FakeApiServer.StartAsync(app =>
            app.MapGet("/api/v1/executions", () => Results.Text(body, contentType, statusCode: status)));

        var result = await OpsRobotProcess.RunAsync(_server.Home.Path, ["execution", "list", "--url", fake.Url]);

        result.ExitCode.ShouldBe(1, row);
        result.StandardOutput.ShouldBeEmpty(row);
        var line = Lines(result.StandardError).ShouldHaveSingleItem(row);
        line.ShouldStartWith("opsrobot: ", Case.Sensitive, row);
        line.ShouldContain("GET /api/v1/executions", Case.Sensitive, row);
        result.StandardError.ShouldNotContain("   at ", Case.Sensitive, row);
    }

    private static object FakeExecution(string status) => new
    {
        id = 7,
        action = "clientdemo.say",
        runnerType = "shell",
        status,
        parameters = new { message = "x" },
        exitCode = status == "succeeded" ? 0 : (int?)null,
        requester = new { door = "cli", userName = "local" },
        createdAt = "2025-01-01T10:00:00Z",
        elapsedSeconds = status == "succeeded" ? 1.5 : (double?)null,
    };

    private static async Task Sse(HttpContext http, string type, string data, string? id = null)
    {
        await http.Response.WriteAsync($"event: {type}\n{(id is null ? string.Empty : $"id: {id}\n")}data: {data}\n\n");
        await http.Response.Body.FlushAsync();
    }

    /// <summary>Whether this process (and so its children) ignores SIGINT: bit 2 of SigIgn in /proc/self/status.</summary>
    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x2) != 0;
    }

    private Task<ProcessResult> Cli(params string[] args) =>
        OpsRobotProcess.RunAsync(_server.Home.Path, args, environment: Env());

    private Dictionary<string, string> Env() => new() { ["OPSROBOT_URL"] = _server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = _key };

    private async Task<List<JsonElement>> ListAsync(string query)
    {
        var page = await _api.GetFromJsonAsync<JsonElement>("/api/v1/executions?" + query);
        return [.. page.GetProperty("executions").EnumerateArray()];
    }

    private async Task<int> CountExecutionsAsync() => (await ListAsync("limit=1000")).Count;

    private async Task<string?> StatusAsync(long id) =>
        (await _api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString();

    private Task WaitForStatusAsync(long id, string status) =>
        ClientVerbPack.WaitUntilAsync(async () => await StatusAsync(id) == status, TimeSpan.FromSeconds(20), $"execution {id} to be {status}");

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
