using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>Chat line → alias → execution → result in the room, and the same executions through the API.</summary>
public sealed class ExecutionFlowTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private ApiClient _admin = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        DemoPack.WriteTo(home);
        _server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:MaxOutputInChat"] = "200",
        }, home);
        _admin = await _server.SignInAsync();
        (await _admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ChatCommand_MatchingAnAlias_AcksThenPostsTheResultInTheRoom()
    {
        await Post("!say hello world");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[0].ShouldStartWith("Running `demo.say` as execution #");
        messages[1].ShouldContain("**succeeded**");
        messages[1].ShouldContain("hello world");
    }

    [Theory]
    [InlineData("command substitution", "$(touch /tmp/{0})")]
    [InlineData("backticks", "`touch /tmp/{0}`")]
    [InlineData("a second command", "x; touch /tmp/{0}")]
    [InlineData("a pipe", "x | touch /tmp/{0}")]
    public async Task ChatCommand_HostileParameter_IsPassedAsDataNeverRun(string row, string template)
    {
        var marker = "opsrobot-pwned-" + Guid.NewGuid().ToString("N");
        var value = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, marker);

        await Post("!say " + value);
        var messages = await WaitForRobotMessagesAsync(2);

        messages[1].ShouldContain(value, customMessage: row);
        File.Exists("/tmp/" + marker).ShouldBeFalse(row);
    }

    [Fact]
    public async Task ChatCommand_WithDefaultsImmutablesAndTemplates_RunsWithTheRightParameters()
    {
        await Post("!deploy booking to prod");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[1].ShouldBe("Deployed: deploying booking latest to prod as chatops");
    }

    [Fact]
    public async Task ChatCommand_ParameterOutsideItsEnum_IsRefusedNamingIt()
    {
        await Post("!deploy booking to moon");

        var messages = await WaitForRobotMessagesAsync(1);

        messages[0].ShouldContain("'target'");
        messages[0].ShouldContain("staging");
        messages[0].ShouldContain("Usage:");
    }

    [Fact]
    public async Task ChatCommand_ThatFails_ReportsTheErrorAndStderr()
    {
        await Post("!fail now");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[1].ShouldContain("**failed**");
        messages[1].ShouldContain("disk full on web01");
    }

    [Fact]
    public async Task ChatCommand_AckAndResultTemplates_AreRendered()
    {
        await Post("!sleep 0");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[0].ShouldStartWith("Sleeping 0s as #");
        messages[1].ShouldBe("Slept well");
    }

    [Fact]
    public async Task ChatCommand_LongOutput_IsCutWithWhereToReadItAll()
    {
        await Post("!chatty 500");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[1].ShouldContain("Output cut at 200");
        messages[1].ShouldContain("opsrobot execution get");
        messages[1].Length.ShouldBeLessThan(800);
    }

    [Fact]
    public async Task ChatCommand_Timeout_KillsTheProcessTreeAndSaysSo()
    {
        var before = SleepProcesses();
        await Post("!sleep 30");

        var messages = await WaitForRobotMessagesAsync(2, TimeSpan.FromSeconds(20));

        messages[1].ShouldBe("Sleep ended: timeout");
        await WaitUntilAsync(() => SleepProcesses().Except(before).All(p => !p.Contains("sleep 30", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CancelCommand_InChat_StopsTheExecutionAndTheRoomHearsIt()
    {
        await Post("!long job");
        var ack = (await WaitForRobotMessagesAsync(1))[0];
        var id = ack.Split('#')[1].TrimEnd('.');
        var listed = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=demo.long");
        await WaitForStatusAsync(listed.GetProperty("executions")[0].GetProperty("id").GetInt64(), "running");

        await Post($"!cancel #{id}");
        var messages = await WaitForRobotMessagesAsync(3);
        await Post($"!execution {id}");
        var shown = await WaitForRobotMessagesAsync(4);

        // The cancel's answer and the execution's result race each other; each must be there, in either order.
        messages.Skip(1).Take(2).ShouldContain(m => m.Contains($"#{id}: cancel", StringComparison.Ordinal));
        messages.Skip(1).Take(2).ShouldContain(m => m.Contains("**canceled**", StringComparison.Ordinal) && m.Contains("Canceled by admin", StringComparison.Ordinal));
        shown[3].ShouldContain("| status | canceled |");
        shown[3].ShouldContain("begun");
    }

    [Theory]
    [InlineData("not a number", "!cancel soon", "Usage:")]
    [InlineData("no such execution", "!cancel 99999", "There is no execution #99999")]
    public async Task CancelCommand_BadId_SaysWhat(string row, string line, string expected)
    {
        await Post(line);

        var messages = await WaitForRobotMessagesAsync(1);

        messages[0].ShouldContain(expected, Case.Sensitive, row);
    }

    [Fact]
    public async Task ChatCommand_NearMiss_GetsTheAliasForms()
    {
        await Post("!deploy");

        var messages = await WaitForRobotMessagesAsync(1);

        messages[0].ShouldContain("deploy <app> [version] to <target>");
    }

    [Fact]
    public async Task Help_ListsPackAliasesAndShowsOneWithItsParameters()
    {
        await Post("!help");
        await Post("!help deploy");

        var messages = await WaitForRobotMessagesAsync(2);

        messages[0].ShouldContain("**demo**");
        messages[0].ShouldContain("`!deploy <app> [version] to <target>`");
        messages[1].ShouldContain("demo.deploy");
        messages[1].ShouldContain("`app`");
        messages[1].ShouldContain("(secret)");
        messages[1].ShouldNotContain("s3cr3t-default");
        messages[1].ShouldNotContain("`user`"); // immutable in the alias
    }

    [Fact]
    public async Task Api_CreateExecution_RunsAndMasksSecrets()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.deploy", parameters = new { app = "api", token = "hunter2" } });
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var final = await WaitForExecutionAsync(id);
        var body = await _admin.GetStringAsync($"/api/v1/executions/{id}");

        final.GetProperty("status").GetString().ShouldBe("succeeded");
        final.GetProperty("parameters").GetProperty("token").GetString().ShouldBe("********");
        body.ShouldNotContain("hunter2");
        final.GetProperty("requester").GetProperty("userName").GetString().ShouldBe("admin");
    }

    [Theory]
    [InlineData("unknown action", "demo.nope", "{}", "There is no action demo.nope")]
    [InlineData("unknown parameter", "demo.say", "{\"message\":\"x\",\"colour\":\"red\"}", "no parameter 'colour'")]
    [InlineData("missing parameter", "demo.say", "{}", "needs parameter 'message'")]
    [InlineData("immutable parameter", "demo.say", "{\"message\":\"x\",\"cmd\":\"id\"}", "'cmd'")]
    [InlineData("wrong type", "demo.sleep", "{\"seconds\":\"soon\"}", "must be an integer")]
    public async Task Api_BadRequest_NamesTheProblemAndStoresNothing(string row, string action, string parameters, string expected)
    {
        var before = await CountExecutionsAsync();
        var content = new StringContent($"{{\"action\":\"{action}\",\"parameters\":{parameters}}}", System.Text.Encoding.UTF8, "application/json");

        var response = await _admin.PostAsync("/api/v1/executions", content);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, row);
        (await response.Content.ReadAsStringAsync()).ShouldContain(expected, Case.Sensitive, row);
        (await CountExecutionsAsync()).ShouldBe(before, row);
    }

    [Fact]
    public async Task Api_Cancel_StopsARunningExecution()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.single" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await WaitForStatusAsync(id, "running");

        var canceled = await _admin.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { });
        var final = await WaitForExecutionAsync(id);

        canceled.StatusCode.ShouldBe(HttpStatusCode.OK);
        final.GetProperty("status").GetString().ShouldBe("canceled");
        final.GetProperty("error").GetString()!.ShouldContain("admin");
    }

    [Fact]
    public async Task TimeoutParameter_LimitsTheRunAndEndsAsTimeout()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.wait" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var final = await WaitForExecutionAsync(id);

        final.GetProperty("status").GetString().ShouldBe("timeout");
        final.GetProperty("error").GetString()!.ShouldContain("Timed out after 1");
        final.GetProperty("elapsedSeconds").GetDouble().ShouldBeLessThan(10);
    }

    [Fact]
    public async Task RetryPolicy_RetriesAFailingActionThenReportsTheLastAttempt()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.flaky" });
        var first = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        await WaitUntilAsync(async () =>
        {
            var list = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=demo.flaky");
            return list.GetProperty("executions").EnumerateArray().Any(e => e.GetProperty("attempt").GetInt32() == 3 && e.GetProperty("status").GetString() == "failed");
        }, TimeSpan.FromSeconds(20));
        var all = (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=demo.flaky")).GetProperty("executions").EnumerateArray().ToList();

        all.Count.ShouldBe(3);
        all.Single(e => e.GetProperty("attempt").GetInt32() == 2).GetProperty("retryOf").GetInt64().ShouldBe(first);
    }

    [Fact]
    public async Task ConcurrencyPolicy_Cancel_RefusesASecondRunWhileTheFirstRuns()
    {
        var first = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.single" });
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await WaitForStatusAsync(firstId, "running");

        var second = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.single" });
        var secondId = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var refused = await WaitForExecutionAsync(secondId);

        refused.GetProperty("status").GetString().ShouldBe("canceled");
        refused.GetProperty("error").GetString()!.ShouldContain("limit");
        await _admin.PostAsJsonAsync($"/api/v1/executions/{firstId}/cancel", new { });
    }

    [Fact]
    public async Task OutputStream_DeliversOutputLiveThenTheFinalStatus()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/executions", new { action = "demo.sleep", parameters = new { seconds = 2 } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        using var stream = await _admin.GetStreamAsync($"/api/v1/executions/{id}/output");
        using var reader = new StreamReader(stream);
        var events = new List<(string Event, string Data, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, line[6..], clock.Elapsed));
            }
        }

        var outputs = events.Where(e => e.Event == "output").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("text").GetString()).ToList();
        string.Concat(outputs).ShouldBe("start\ndone\n");
        var last = JsonDocument.Parse(events[^1].Data).RootElement;
        events[^1].Event.ShouldBe("status");
        last.GetProperty("status").GetString().ShouldBe("succeeded");
        // "start" arrived while the action still slept, not at the end.
        var startAt = events.First(e => e.Event == "output").At;
        (events[^1].At - startAt).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(500), string.Join("\n", events.Select(e => $"{e.At.TotalMilliseconds:0} {e.Event} {e.Data}")));
    }

    [Fact]
    public async Task AliasMatch_TellsWhichAliasAndParameters()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/aliases/match", new { text = "!deploy booking 1.4.2 to prod" });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("alias").GetString().ShouldBe("demo.deploy");
        body.GetProperty("parameters").GetProperty("version").GetString().ShouldBe("1.4.2");
        body.GetProperty("parameters").GetProperty("target").GetString().ShouldBe("prod");
    }

    [Fact]
    public async Task Actions_ListedWithParametersAndSecretDefaultsMasked()
    {
        var action = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/actions/demo.deploy");

        var token = action.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "token");
        token.GetProperty("secret").GetBoolean().ShouldBeTrue();
        token.GetProperty("default").GetString().ShouldBe("********");
    }

    [Fact]
    public async Task PacksReload_BrokenEditKeepsThePreviousVersion_GoodEditTakesEffect()
    {
        var aliasFile = Path.Combine(_server.Home.PacksDir, "demo", "aliases", "say.yaml");
        File.WriteAllText(aliasFile, "name: say\naction_ref: demo.say\nformats: [\"say {{ message\"]\n");

        var broken = await (await _admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).Content.ReadFromJsonAsync<JsonElement>();
        await Post("!say still here");
        var afterBroken = await WaitForRobotMessagesAsync(2);

        File.WriteAllText(aliasFile, "name: say\naction_ref: demo.say\nformats: [\"shout {{ message }}\"]\n");
        await (await _admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).Content.ReadFromJsonAsync<JsonElement>();
        await Post("!shout louder");
        var afterGood = await WaitForRobotMessagesAsync(4);

        broken.GetProperty("errors").EnumerateArray().Single().GetString()!.ShouldContain("say.yaml:3:");
        broken.GetProperty("keptPrevious").EnumerateArray().Select(e => e.GetString()).ShouldBe(["demo"]);
        afterBroken[1].ShouldContain("still here");
        afterGood[3].ShouldContain("louder");
    }

    private async Task Post(string text) =>
        (await _admin.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).StatusCode.ShouldBe(HttpStatusCode.Accepted);

    private async Task<List<string>> WaitForRobotMessagesAsync(int count, TimeSpan? timeout = null)
    {
        List<string> robot = [];
        await WaitUntilAsync(async () =>
        {
            var history = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            robot = [.. history.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot")
                .Select(m => m.GetProperty("text").GetString()!)];
            return robot.Count >= count;
        }, timeout ?? TimeSpan.FromSeconds(15));
        return robot;
    }

    private async Task<JsonElement> WaitForExecutionAsync(long id)
    {
        JsonElement e = default;
        await WaitUntilAsync(async () =>
        {
            e = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return e.GetProperty("status").GetString() is "succeeded" or "failed" or "timeout" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(20));
        return e;
    }

    private Task WaitForStatusAsync(long id, string status) => WaitUntilAsync(async () =>
        (await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}")).GetProperty("status").GetString() == status, TimeSpan.FromSeconds(10));

    private async Task<int> CountExecutionsAsync() =>
        (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/executions?limit=1000")).GetProperty("executions").GetArrayLength();

    private static List<string> SleepProcesses() =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "cmdline")).Where(File.Exists)
            .Select(f => { try { return File.ReadAllText(f).Replace('\0', ' '); } catch (IOException) { return string.Empty; } })
            .Where(c => c.StartsWith("sleep ", StringComparison.Ordinal))];

    internal static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout) => WaitUntilAsync(() => Task.FromResult(condition()), timeout);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The condition did not hold within {timeout}.");
            }

            await Task.Delay(50);
        }
    }
}
