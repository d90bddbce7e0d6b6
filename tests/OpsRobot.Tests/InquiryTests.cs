using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// Human approval in workflows (core.ask), end to end on the real server: the question in the room, answers from web
/// chat, the API and the CLI, who may answer, denial, expiry, and the statuses shown meanwhile.
/// </summary>
public sealed class InquiryTests : IAsyncLifetime
{
    private WorkflowWorld _world = null!;

    public async Task InitializeAsync()
    {
        _world = await WorkflowWorld.StartAsync(home =>
        {
            WorkflowPacks.WriteAsks(home);
            WriteGreeting(home);
            WritePauses(home);
        });
        await _world.CreateRoomAsync();
        foreach (var (name, role) in new[] { ("alice", "operator"), ("bob", "operator"), ("dave", "operator"), ("gus", "guest") })
        {
            (await _world.Admin.PostAsJsonAsync("/api/v1/users", new { name, password = AccessWorld.Password, roles = new[] { role } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    /// <summary>
    /// <c>asks.greet</c>, run by the alias <c>greet {{who}}</c>: greets, asks for a note about <c>who</c>, echoes the
    /// note. Everything a caller gives it flows into expressions of the workflow file.
    /// </summary>
    private static void WriteGreeting(TestHome home)
    {
        home.Write("packs/asks/actions/greet.yaml", """
            name: greet
            runner_type: workflow
            entry_point: workflows/greet.yaml
            timeout: 3600
            parameters:
              who: {type: string, required: true}
            """);
        home.Write("packs/asks/aliases/greet.yaml", """
            name: greet
            action_ref: asks.greet
            description: Greet someone, then ask for a note
            formats:
              - "greet {{who}}"
            """);
        home.Write("packs/asks/actions/workflows/greet.yaml", """
            version: 1.0
            input:
              - who
            tasks:
              hello:
                action: core.echo message="hi <% ctx(who) %>"
                next:
                  - when: <% succeeded() %>
                    publish: greeting=<% result().stdout %>
                    do: ask
              ask:
                action: core.ask
                input:
                  question: Any note for <% ctx(who) %>?
                  route: web:ops
                  schema:
                    type: object
                    properties:
                      note: {type: string}
                    required: [note]
                next:
                  - when: <% succeeded() %>
                    publish: note=<% result().note %>
                    do: done
              done:
                action: core.echo message="noted <% ctx(note) %>"
                next:
                  - publish: said=<% result().stdout %>
            output:
              - who: <% ctx(who) %>
              - greeting: <% ctx(greeting) %>
              - note: <% ctx(note) %>
              - said: <% ctx(said) %>
            """);
    }

    /// <summary>
    /// <c>asks.later</c>: waits at wf.gate for the flag file, then asks; <c>asks.two</c>: two asks at once, each followed
    /// by a step.
    /// </summary>
    private static void WritePauses(TestHome home)
    {
        home.Write("packs/asks/actions/later.yaml", """
            name: later
            runner_type: workflow
            entry_point: workflows/later.yaml
            timeout: 3600
            parameters:
              log: {type: string, required: true}
              flag: {type: string, required: true}
            """);
        home.Write("packs/asks/actions/workflows/later.yaml", """
            version: 1.0
            input:
              - log
              - flag
            tasks:
              gate:
                action: wf.gate log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    do: ask
              ask:
                action: core.ask
                input:
                  question: Carry on?
                next:
                  - when: <% succeeded() %>
                    do: done
              done:
                action: wf.mark name=done log=<% ctx(log) %>
            """);
        home.Write("packs/asks/actions/two.yaml", """
            name: two
            runner_type: workflow
            entry_point: workflows/two.yaml
            timeout: 3600
            parameters:
              log: {type: string, required: true}
            """);
        home.Write("packs/asks/actions/workflows/two.yaml", """
            version: 1.0
            input:
              - log
            tasks:
              start:
                action: core.noop
                next:
                  - do: [first, second]
              first:
                action: core.ask
                input:
                  question: First?
                next:
                  - when: <% succeeded() %>
                    do: after_first
              second:
                action: core.ask
                input:
                  question: Second?
                next:
                  - when: <% succeeded() %>
                    do: after_second
              after_first:
                action: wf.mark name=after_first log=<% ctx(log) %>
              after_second:
                action: wf.mark name=after_second log=<% ctx(log) %>
            """);
    }

    private async Task<string?> ControlAsync(long id, string verb)
    {
        var response = await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/{verb}", new { });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("workflowStatus").GetString();
    }

    /// <summary>Waits until the workflow's stored run shows <paramref name="task"/> as <paramref name="status"/>.</summary>
    private Task WaitForTaskAsync(long id, string task, string status) =>
        ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var view = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}/workflow");
            return view.GetProperty("tasks").EnumerateArray().Any(t => t.GetProperty("id").GetString() == task && t.GetProperty("status").GetString() == status);
        }, TimeSpan.FromSeconds(30));

    private async Task ApproveAsync(long inquiry) =>
        (await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{inquiry}", new { response = new { approved = true } })).EnsureSuccessStatusCode();

    [Fact]
    public async Task PauseThenResume_WhileTheAskWaits_LeavesTheWorkflowPaused_AndTheAnswerCarriesItOn()
    {
        var id = await _world.StartAsync("asks.gate");
        var inquiry = await PendingInquiryAsync(id);
        await _world.WaitForStatusAsync(id, "paused");

        (await ControlAsync(id, "pause")).ShouldBe("paused");
        (await _world.StatusAsync(id)).ShouldBe("paused");
        (await ControlAsync(id, "resume")).ShouldBe("paused");
        (await _world.StatusAsync(id)).ShouldBe("paused");
        (await _world.StatusAsync(inquiry.GetProperty("execution").GetInt64())).ShouldBe("pending");

        await ApproveAsync(inquiry.GetProperty("id").GetInt64());

        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task Pause_WhileTheAskWaits_HoldsTheWorkflowAfterTheAnswer_UntilItIsResumed()
    {
        var id = await _world.StartAsync("asks.later", new { log = _world.Log, flag = _world.Flag });
        await File.WriteAllTextAsync(_world.Flag, "open");
        var inquiry = await PendingInquiryAsync(id);
        await _world.WaitForStatusAsync(id, "paused");
        (await ControlAsync(id, "pause")).ShouldBe("paused");

        await ApproveAsync(inquiry.GetProperty("id").GetInt64());

        await WaitForTaskAsync(id, "ask", "succeeded");
        (await _world.StatusAsync(id)).ShouldBe("paused");
        (await _world.ChildrenAsync(id, "wf.mark")).ShouldBeEmpty();
        (await ControlAsync(id, "resume")).ShouldBeOneOf("resuming", "running");
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
        (await File.ReadAllLinesAsync(_world.Log)).ShouldBe(["gate-start", "gate-end", "done"]);
    }

    [Fact]
    public async Task PausedWhileATaskRuns_ThenResumed_ShowsPausedOnceTheNextAskWaits()
    {
        var id = await _world.StartAsync("asks.later", new { log = _world.Log, flag = _world.Flag });
        await _world.WaitForGateAsync();
        (await ControlAsync(id, "pause")).ShouldBe("pausing");
        await File.WriteAllTextAsync(_world.Flag, "open");
        await _world.WaitForStatusAsync(id, "paused");

        (await ControlAsync(id, "resume")).ShouldBe("resuming");

        var inquiry = await PendingInquiryAsync(id);
        await ExecutionFlowTests.WaitUntilAsync(async () => await _world.StatusAsync(inquiry.GetProperty("execution").GetInt64()) == "pending", TimeSpan.FromSeconds(30));
        await _world.WaitForStatusAsync(id, "paused");
        await ApproveAsync(inquiry.GetProperty("id").GetInt64());
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public async Task TwoAsks_WaitingAtOnce_KeepTheWorkflowPaused_UntilTheSecondIsAnswered()
    {
        var id = await _world.StartAsync("asks.two", new { log = _world.Log });
        List<JsonElement> pending = [];
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var list = await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
            pending = [.. list.GetProperty("inquiries").EnumerateArray().Where(i => i.GetProperty("workflow").ValueKind == JsonValueKind.Number && i.GetProperty("workflow").GetInt64() == id)];
            return pending.Count == 2;
        }, TimeSpan.FromSeconds(60));
        await _world.WaitForStatusAsync(id, "paused");
        var first = pending.Single(i => i.GetProperty("question").GetString() == "First?");
        var second = pending.Single(i => i.GetProperty("question").GetString() == "Second?");

        await ApproveAsync(first.GetProperty("id").GetInt64());

        await WaitForTaskAsync(id, "first", "succeeded");
        (await _world.StatusAsync(id)).ShouldBe("paused");
        (await _world.ChildrenAsync(id, "wf.mark")).ShouldBeEmpty("nothing new starts while the second ask waits");
        await ApproveAsync(second.GetProperty("id").GetInt64());
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
        (await File.ReadAllLinesAsync(_world.Log)).Order(StringComparer.Ordinal).ShouldBe(["after_first", "after_second"]);
    }

    [Fact]
    public async Task Workflow_FromAnAliasAndAnAnswer_TakesWhatPeopleTypeAsText_NeverAsExpressions()
    {
        using var alice = await _world.Server.SignInAsync("alice", AccessWorld.Password);
        await using var aliceStream = await JoinAsync(alice);

        await WorkflowWorld.SayAsync(_world.Admin, "!greet {{ 7*7 }}");

        var id = (await _world.ExecutionsOfAsync("asks.greet")).ShouldHaveSingleItem().GetProperty("id").GetInt64();
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();
        (await SaysAsync(aliceStream, $"**Inquiry {number}** from workflow #{id}: Any note for {{{{ 7*7 }}}}?")).ShouldNotBe(default);
        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!answer {number} note=\"<% ctx() %> {{{{ kv.system.x }}}}\"" });

        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        var output = execution.GetProperty("result").GetProperty("output");
        output.GetProperty("who").GetString().ShouldBe("{{ 7*7 }}");
        output.GetProperty("greeting").GetString()!.TrimEnd().ShouldBe("hi {{ 7*7 }}");
        output.GetProperty("note").GetString().ShouldBe("<% ctx() %> {{ kv.system.x }}");
        output.GetProperty("said").GetString()!.TrimEnd().ShouldBe("noted <% ctx() %> {{ kv.system.x }}");
    }

    [Theory]
    [InlineData("<% ctx() %>")]
    [InlineData("{{ 6*7 }}")]
    [InlineData("<% ctx(nothing_here) %>")]
    public async Task Workflow_FromTheApi_TakesItsParametersAsText(string who)
    {
        var id = await _world.StartAsync("asks.greet", new { who });
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();

        (await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { note = who } })).EnsureSuccessStatusCode();

        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("who").GetString().ShouldBe(who);
        execution.GetProperty("result").GetProperty("output").GetProperty("note").GetString().ShouldBe(who);
    }

    private async Task<JsonElement> PendingInquiryAsync(long workflow, WorkflowWorld? other = null)
    {
        var world = other ?? _world;
        JsonElement found = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var list = await world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/inquiries?status=pending");
            found = list.GetProperty("inquiries").EnumerateArray().FirstOrDefault(i => i.GetProperty("workflow").ValueKind == JsonValueKind.Number && i.GetProperty("workflow").GetInt64() == workflow);
            if (found.ValueKind != JsonValueKind.Object)
            {
                // A workflow that ended without asking fails the test at once, with its record.
                var execution = await world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{workflow}");
                execution.GetProperty("status").GetString().ShouldNotBeOneOf(["succeeded", "failed", "abandoned", "canceled", "timeout"], execution.ToString());
            }

            return found.ValueKind == JsonValueKind.Object;
        }, TimeSpan.FromSeconds(60));
        return found;
    }

    private async Task<StreamClient> JoinAsync(ApiClient user)
    {
        (await user.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).EnsureSuccessStatusCode();
        var stream = await _world.Server.ConnectStreamAsync(user);
        await stream.WaitForAsync(f => f.GetProperty("type").GetString() == "hello");
        return stream;
    }

    private async Task<List<string>> RoomTextsAsync() =>
        [.. (await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages")).GetProperty("messages").EnumerateArray().Select(m => m.ToString())];

    /// <summary>Waits for a message in the room whose text contains <paramref name="part"/>.</summary>
    private static Task<JsonElement> SaysAsync(StreamClient stream, string part) =>
        stream.WaitForAsync(f => f.GetProperty("type").GetString() == "message"
            && f.GetProperty("message").GetProperty("text").GetString()!.Contains(part, StringComparison.Ordinal), TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Approve_ByANamedUser_ResumesTheWorkflowToSuccess_AfterAnotherUserIsRefused()
    {
        using var alice = await _world.Server.SignInAsync("alice", AccessWorld.Password);
        using var bob = await _world.Server.SignInAsync("bob", AccessWorld.Password);
        await using var aliceStream = await JoinAsync(alice);
        await using var bobStream = await JoinAsync(bob);

        var id = await _world.StartAsync("asks.gate");
        var inquiry = await PendingInquiryAsync(id);
        var number = inquiry.GetProperty("id").GetInt64();

        // The question is in the room, with the command to answer; the ask is pending and its workflow paused.
        var question = await SaysAsync(aliceStream, $"**Inquiry {number}** from workflow #{id}");
        question.ToString().ShouldContain("Deploy booking 1.4 to production?");
        question.ToString().ShouldContain($"!approve {number}");
        var ask = inquiry.GetProperty("execution").GetInt64();
        await ExecutionFlowTests.WaitUntilAsync(async () => await _world.StatusAsync(ask) == "pending" && await _world.StatusAsync(id) == "paused", TimeSpan.FromSeconds(30));
        inquiry.GetProperty("users").EnumerateArray().Select(u => u.GetString()).ShouldBe(["alice"]);

        await bobStream.SendAsync(new { type = "send", room = "ops", text = $"!approve {number}" });
        (await SaysAsync(bobStream, $"Only alice or members of role approvers may answer inquiry {number}.")).ShouldNotBe(default);
        (await _world.StatusAsync(ask)).ShouldBe("pending");

        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!approve {number} dashboards are green" });
        (await SaysAsync(bobStream, $"Inquiry {number} was approved by alice: dashboards are green")).ShouldNotBe(default);

        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("result").GetProperty("output").GetProperty("approved").GetBoolean().ShouldBeTrue();
        var answered = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/inquiries/{number}");
        answered.GetProperty("status").GetString().ShouldBe("responded");
        answered.GetProperty("respondedBy").GetString().ShouldBe("alice");
        answered.GetProperty("response").GetProperty("comment").GetString().ShouldBe("dashboards are green");

        var audit = await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?kind=inquiry.responded");
        var records = audit.GetProperty("records").EnumerateArray().Select(r => $"{r.GetProperty("actor").GetString()}:{r.GetProperty("decision").GetString()}").ToList();
        records.ShouldContain("alice:allow");
        records.ShouldContain("bob:deny");
    }

    [Fact]
    public async Task Approve_ByAMemberOfANamedRole_IsAccepted_AndASecondAnswerIsRefused()
    {
        var id = await _world.StartAsync("asks.gate");
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();
        using var dave = await _world.Server.SignInAsync("dave", AccessWorld.Password);

        var first = await dave.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true } });
        var second = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = false } });

        first.StatusCode.ShouldBe(HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        second.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await second.Content.ReadAsStringAsync()).ShouldContain("already answered by dave");
        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
        (await RoomTextsAsync()).ShouldContain(t => t.Contains($"Inquiry {number} was approved by dave", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deny_FailsTheAskTask_AndTheWorkflow_WithTheReason()
    {
        using var alice = await _world.Server.SignInAsync("alice", AccessWorld.Password);
        await using var aliceStream = await JoinAsync(alice);
        var id = await _world.StartAsync("asks.gate");
        var inquiry = await PendingInquiryAsync(id);
        var number = inquiry.GetProperty("id").GetInt64();

        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!deny {number} change freeze" });

        (await SaysAsync(aliceStream, $"Inquiry {number} was denied by alice: change freeze")).ShouldNotBe(default);
        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("failed", execution.ToString());
        var ask = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{inquiry.GetProperty("execution").GetInt64()}");
        ask.GetProperty("status").GetString().ShouldBe("failed");
        ask.GetProperty("error").GetString().ShouldBe($"Inquiry {number} was denied by alice: change freeze");
        ask.GetProperty("result").GetProperty("approved").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Expiry_WithoutAnAnswer_FailsTheWorkflow_AndLateAnswersAreRefused()
    {
        var id = await _world.StartAsync("asks.gate", new { ttl = 5 });
        var inquiry = await PendingInquiryAsync(id);
        var number = inquiry.GetProperty("id").GetInt64();

        _world.Server.Time.Advance(TimeSpan.FromMinutes(6));

        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("failed", execution.ToString());
        var ask = await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{inquiry.GetProperty("execution").GetInt64()}");
        ask.GetProperty("status").GetString().ShouldBe("failed");
        ask.GetProperty("error").GetString()!.ShouldStartWith($"Nobody answered inquiry {number} within its ttl of 5 minute(s); it expired at");
        execution.GetProperty("result").GetProperty("errors")[0].GetProperty("task_id").GetString().ShouldBe("ask");
        var late = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true } });
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await late.Content.ReadAsStringAsync()).ShouldContain("expired");
    }

    [Fact]
    public async Task Cancel_OfTheWaitingWorkflow_CancelsTheQuestion()
    {
        var id = await _world.StartAsync("asks.gate");
        var inquiry = await PendingInquiryAsync(id);
        var number = inquiry.GetProperty("id").GetInt64();

        (await _world.Admin.PostAsJsonAsync($"/api/v1/executions/{id}/cancel", new { })).EnsureSuccessStatusCode();

        (await _world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("canceled");
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await _world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/inquiries/{number}")).GetProperty("status").GetString() == "canceled", TimeSpan.FromSeconds(30));
        var late = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true } });
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await late.Content.ReadAsStringAsync()).ShouldContain($"Inquiry {number} was canceled");
    }

    [Fact]
    public async Task Answer_WithValues_IsCheckedAgainstTheSchema_AndTheFieldsReachTheWorkflow()
    {
        using var alice = await _world.Server.SignInAsync("alice", AccessWorld.Password);
        await using var aliceStream = await JoinAsync(alice);
        var id = await _world.StartAsync("asks.values");
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();

        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!answer {number} version=1.4.2 hosts=many" });
        (await SaysAsync(aliceStream, $"That does not answer inquiry {number}: The field 'hosts' must be an integer; 'many' is not one.")).ShouldNotBe(default);
        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!answer {number} version=1.4.2 hosts=3 env=moon" });
        (await SaysAsync(aliceStream, "The field 'env' must be one of \"staging\", \"production\"; \"moon\" is not.")).ShouldNotBe(default);
        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!approve {number}" });
        (await SaysAsync(aliceStream, "asks for values, not for an approval")).ShouldNotBe(default);
        var bad = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { version = "1.4.2" } });
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("The field 'hosts' is required.");
        (await _world.StatusAsync(id)).ShouldBe("paused");

        await aliceStream.SendAsync(new { type = "send", room = "ops", text = $"!answer {number} version=\"1.4.2 rc\" hosts=3 canary=yes" });

        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        var output = execution.GetProperty("result").GetProperty("output");
        output.GetProperty("version").GetString().ShouldBe("1.4.2 rc");
        output.GetProperty("hosts").GetInt64().ShouldBe(3);
    }

    [Fact]
    public async Task Cli_ListsGetsAndResponds_ThroughTheApi()
    {
        var id = await _world.StartAsync("asks.values");
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var env = await _world.CliEnvironmentAsync();
        var home = _world.Server.Home.Path;

        var list = await OpsRobotProcess.RunAsync(home, ["inquiry", "list", "--status", "pending"], environment: env);
        var get = await OpsRobotProcess.RunAsync(home, ["inquiry", "get", number], environment: env);
        var wrong = await OpsRobotProcess.RunAsync(home, ["inquiry", "respond", number, "version=2.0", "hosts=two"], environment: env);
        var respond = await OpsRobotProcess.RunAsync(home, ["inquiry", "respond", number, "version=2.0 final", "hosts=2"], environment: env);

        list.ExitCode.ShouldBe(0, list.StandardError);
        list.StandardOutput.ShouldContain("Which version, and how many hosts?");
        get.ExitCode.ShouldBe(0, get.StandardError);
        get.StandardOutput.ShouldContain("`hosts` (integer, required)");
        wrong.ExitCode.ShouldBe(2);
        wrong.StandardError.ShouldContain("The field 'hosts' must be an integer; 'two' is not one.");
        respond.ExitCode.ShouldBe(0, respond.StandardError);
        respond.StandardOutput.ShouldContain($"inquiry {number} is responded");
        var execution = await _world.WaitFinishedAsync(id);
        execution.GetProperty("result").GetProperty("output").GetProperty("version").GetString().ShouldBe("2.0 final");
    }

    [Fact]
    public async Task List_ShowsAnInquiryToWhomItNamesAndToWhoMaySeeItsWorkflow_AndHidesItFromOthers()
    {
        var id = await _world.StartAsync("asks.gate");
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();
        using var alice = await _world.Server.SignInAsync("alice", AccessWorld.Password);
        using var bob = await _world.Server.SignInAsync("bob", AccessWorld.Password);
        using var gus = await _world.Server.SignInAsync("gus", AccessWorld.Password);
        async Task<List<long>> ListedAsync(ApiClient user) =>
            [.. (await user.GetFromJsonAsync<JsonElement>("/api/v1/inquiries")).GetProperty("inquiries").EnumerateArray().Select(i => i.GetProperty("id").GetInt64())];

        (await ListedAsync(alice)).ShouldContain(number); // named by the ask
        (await ListedAsync(bob)).ShouldContain(number); // not named, but may see the workflow (execution.view)
        (await ListedAsync(gus)).ShouldNotContain(number); // neither
    }

    [Fact]
    public async Task Ask_RoutedToARoomThatDoesNotExist_StillWaits_AndItsOutputSaysTheQuestionWasNotPosted()
    {
        await using var world = await WorkflowWorld.StartAsync(home => WorkflowPacks.WriteAsks(home, route: "web:nowhere"));
        var id = await world.StartAsync("asks.gate");
        var inquiry = await PendingInquiryAsync(id, world);
        var ask = inquiry.GetProperty("execution").GetInt64();

        // Answerable as any inquiry whose room could not be reached (an administrator on the whitelist may answer).
        (await world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{inquiry.GetProperty("id").GetInt64()}", new { response = new { approved = true } })).EnsureSuccessStatusCode();

        (await world.WaitFinishedAsync(id)).GetProperty("status").GetString().ShouldBe("succeeded");
        using var stream = await world.Admin.GetStreamAsync($"/api/v1/executions/{ask}/output");
        using var reader = new StreamReader(stream);
        var said = await reader.ReadToEndAsync();
        said.ShouldContain("The question could not be posted to web:nowhere (there is no such room, or its chat system is not connected)");
    }

    [Fact]
    public async Task Api_RefusesHostileAndUnknownRequests_WithClearErrors()
    {
        var id = await _world.StartAsync("asks.gate");
        var number = (await PendingInquiryAsync(id)).GetProperty("id").GetInt64();
        using var gus = await _world.Server.SignInAsync("gus", AccessWorld.Password);
        using var anonymous = _world.Server.NewClient();

        var noBody = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { });
        var unknownField = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = true, rm = "-rf" } });
        var wrongType = await _world.Admin.PutAsJsonAsync($"/api/v1/inquiries/{number}", new { response = new { approved = "yes" } });
        var missing = await _world.Admin.GetAsync("/api/v1/inquiries/999999");
        var hidden = await gus.GetAsync($"/api/v1/inquiries/{number}");
        var unauthenticated = await anonymous.GetAsync("/api/v1/inquiries");
        var badStatus = await _world.Admin.GetAsync("/api/v1/inquiries?status=maybe");

        noBody.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        unknownField.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknownField.Content.ReadAsStringAsync()).ShouldContain("There is no field 'rm' in this inquiry");
        wrongType.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await wrongType.Content.ReadAsStringAsync()).ShouldContain("The field 'approved' must be a boolean");
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        hidden.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        unauthenticated.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        badStatus.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await _world.StatusAsync(id)).ShouldBe("paused");
    }
}
