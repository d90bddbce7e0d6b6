using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;
using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Tests.Workflows;

public sealed class WorkflowConductorTests
{
    private static readonly WorkflowExpressions Expressions = new();
    private static readonly WorkflowLoader Loader = new(Expressions);

    private static WorkflowConductor Start(string yaml, JsonObject? inputs = null) =>
        WorkflowConductor.Start(Loader.Load(yaml, "wf.yaml"), Expressions, inputs);

    private static void Complete(WorkflowConductor c, NextTask task, string status = Succeeded, JsonNode? result = null)
    {
        c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
        c.UpdateTask(task.Id, task.Route, new TaskEvent(status, result));
    }

    private const string Chain = """
        version: 1.0
        input:
          - n
        tasks:
          a:
            action: core.echo message=<% ctx(n) %>
            next:
              - when: <% succeeded() %>
                publish: n=<% ctx(n) + 1 %> seen=<% result() %>
                do: b
          b:
            action: core.echo
            input:
              message: "n is <% ctx(n) %>"
              list: <% list(ctx(n), ctx(seen)) %>
            next:
              - when: <% succeeded() %>
                do: c
          c:
            action: core.noop
        output:
          - n: <% ctx(n) %>
          - seen: <% ctx(seen) %>
        """;

    [Fact]
    public void Expressions_SingleExpressionKeepsItsType_MixedTextIsText()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 41 });
        var a = c.GetNextTasks().ShouldHaveSingleItem();
        a.Actions[0].Action.ShouldBe("core.echo");
        a.Actions[0].Input["message"]!.GetValue<long>().ShouldBe(41);

        Complete(c, a, result: new JsonObject { ["stdout"] = "41" });
        var b = c.GetNextTasks().ShouldHaveSingleItem();

        b.Actions[0].Input["message"]!.GetValue<string>().ShouldBe("n is 42");
        JsonNode.DeepEquals(b.Actions[0].Input["list"], JsonNode.Parse("""[42, {"stdout": "41"}]""")).ShouldBeTrue(b.Actions[0].Input.ToJsonString());
    }

    private const string Greeting = """
        version: 1.0
        input:
          - who
          - greeting: "hello <% ctx(who) %>"
          - items
        vars:
          - shout: <% ctx(greeting) %>!
        tasks:
          hello:
            action: core.echo message="hi <% ctx(who) %>"
            next:
              - when: <% succeeded() %>
                publish: said=<% result().stdout %>
                do: each
          each:
            with: <% ctx(items) %>
            action: core.echo message="item <% item() %>"
            next:
              - do: ask
          ask:
            action: core.ask
            input:
              question: "Proceed for <% ctx(who) %> after <% ctx(said) %>?"
            next:
              - when: <% succeeded() %>
                publish: comment=<% result().comment %>
                do: done
          done:
            action: core.echo message="<% ctx(comment) %>"
        output:
          - who: <% ctx(who) %>
          - said: <% ctx(said) %>
          - comment: <% ctx(comment) %>
        """;

    [Theory]
    [InlineData("{{ 7*7 }}", "a Jinja expression")]
    [InlineData("<% ctx() %>", "a YAQL expression that would print the context")]
    [InlineData("{% for x in [1,2] %}{{ x }}{% endfor %}", "a Jinja statement")]
    [InlineData("<% ctx(nope) %>", "an expression that would fail the workflow")]
    public void Inputs_ValuesACallerGives_AreData_NeverEvaluated(string hostile, string what)
    {
        var c = Start(Greeting, new JsonObject { ["who"] = hostile, ["items"] = new JsonArray(hostile) });

        c.Status.ShouldBe(Running, what);
        var ctx = c.State.Contexts[0];
        ctx["who"]!.GetValue<string>().ShouldBe(hostile, what);
        ctx["greeting"]!.GetValue<string>().ShouldBe($"hello {hostile}", "a default in the workflow file is an expression, and sees the given value as text");
        ctx["shout"]!.GetValue<string>().ShouldBe($"hello {hostile}!");
        var hello = c.GetNextTasks().ShouldHaveSingleItem();
        hello.Actions[0].Input["message"]!.GetValue<string>().ShouldBe($"hi {hostile}");

        // What an action returns, an item, and an answer to an ask are data too, however they were published.
        Complete(c, hello, result: new JsonObject { ["stdout"] = hostile });
        var each = c.GetNextTasks().ShouldHaveSingleItem();
        each.Actions.ShouldHaveSingleItem().Input["message"]!.GetValue<string>().ShouldBe($"item {hostile}");
        Complete(c, each);
        var ask = c.GetNextTasks().ShouldHaveSingleItem();
        ask.Actions[0].Input["question"]!.GetValue<string>().ShouldBe($"Proceed for {hostile} after {hostile}?");
        Complete(c, ask, result: new JsonObject { ["approved"] = true, ["comment"] = hostile });
        var done = c.GetNextTasks().ShouldHaveSingleItem();
        done.Actions[0].Input["message"]!.GetValue<string>().ShouldBe(hostile);
        Complete(c, done);

        c.Status.ShouldBe(Succeeded);
        c.RenderOutput()!.ToJsonString().ShouldBe(new JsonObject { ["who"] = hostile, ["said"] = hostile, ["comment"] = hostile }.ToJsonString());
    }

    [Fact]
    public void Inputs_TypedValuesACallerGives_KeepTheirType_AndDefaultsFillTheRest()
    {
        var given = JsonNode.Parse("""{"who": {"name": "<% ctx() %>", "tags": ["{{ 1 }}", 2, true, null]}, "items": []}""")!.AsObject();

        var c = Start(Greeting, given);

        JsonNode.DeepEquals(c.State.Contexts[0]["who"], given["who"]).ShouldBeTrue(c.State.Contexts[0].ToJsonString());
        c.State.Contexts[0]["greeting"]!.GetValue<string>().ShouldStartWith("hello {");
    }

    [Fact]
    public void State_SerializedMidRunAndRestored_CarriesOnToTheSameEnd()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 1 });
        Complete(c, c.GetNextTasks().Single(), result: JsonValue.Create("one"));
        var stored = JsonSerializer.Serialize(c.State);

        var restored = new WorkflowConductor(c.Graph, Expressions, JsonSerializer.Deserialize<WorkflowState>(stored)!);
        Complete(restored, restored.GetNextTasks().ShouldHaveSingleItem());
        Complete(restored, restored.GetNextTasks().ShouldHaveSingleItem());

        restored.GetNextTasks().ShouldBeEmpty();
        restored.Status.ShouldBe(Succeeded);
        restored.RenderOutput()!.ToJsonString().ShouldBe("""{"n":2,"seen":"one"}""");
        restored.State.Sequence.Select(t => t.Id).ShouldBe(["a", "b", "c"]);
    }

    [Fact]
    public void Pause_WhileATaskRuns_PausesWhenItEnds_AndResumeCarriesOn()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 1 });
        var a = c.GetNextTasks().Single();
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Running));

        c.RequestWorkflowStatus(Pausing);
        c.Status.ShouldBe(Pausing);
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Succeeded));

        c.Status.ShouldBe(Paused);
        c.GetNextTasks().ShouldBeEmpty();

        c.RequestWorkflowStatus(Resuming);
        c.Status.ShouldBe(Resuming);
        var b = c.GetNextTasks().ShouldHaveSingleItem();
        b.Id.ShouldBe("b");
        Complete(c, b);
        c.Status.ShouldBe(Running);
        Complete(c, c.GetNextTasks().Single());
        c.Status.ShouldBe(Succeeded);
    }

    private const string TwoAsks = """
        version: 1.0
        tasks:
          start:
            action: core.noop
            next:
              - do: [ask1, ask2]
          ask1:
            action: core.ask
            next:
              - do: after1
          ask2:
            action: core.ask
            next:
              - do: after2
          after1:
            action: core.noop
          after2:
            action: core.noop
        """;

    /// <summary>Starts the next task named <paramref name="id"/> and lets it run.</summary>
    private static NextTask Run(WorkflowConductor c, IReadOnlyList<NextTask> next, string id)
    {
        var task = next.Single(t => t.Id == id);
        c.UpdateTask(task.Id, task.Route, new TaskEvent(Requested));
        c.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
        return task;
    }

    [Fact]
    public void Ask_Waiting_PausesTheWorkflow_PauseAndResumeKeepItPaused_AndTheAnswerCarriesOn()
    {
        var c = Start("version: 1.0\ntasks:\n  ask:\n    action: core.ask\n    next:\n      - do: done\n  done:\n    action: core.noop\n");
        var ask = Run(c, c.GetNextTasks(), "ask");
        c.Status.ShouldBe(Running);

        c.UpdateTask("ask", 0, new TaskEvent(Pending));
        c.Status.ShouldBe(Paused);
        c.RequestWorkflowStatus(Pausing);
        c.Status.ShouldBe(Paused, "a pause of a workflow that an ask holds is taken, and changes nothing");
        c.RequestWorkflowStatus(Resuming);
        c.Status.ShouldBe(Paused, "nothing can carry on while the ask waits");
        c.GetNextTasks().ShouldBeEmpty();

        // The answer: the ask's action runs on, then ends.
        c.UpdateTask(ask.Id, ask.Route, new TaskEvent(Running));
        c.Status.ShouldBe(Running);
        c.UpdateTask(ask.Id, ask.Route, new TaskEvent(Succeeded, new JsonObject { ["approved"] = true }));
        Complete(c, c.GetNextTasks().ShouldHaveSingleItem());
        c.Status.ShouldBe(Succeeded);
    }

    [Fact]
    public void Ask_Denied_WhileTheWorkflowIsPausedForIt_FailsTheWorkflow()
    {
        var c = Start("version: 1.0\ntasks:\n  ask:\n    action: core.ask\n    next:\n      - when: <% succeeded() %>\n        do: done\n  done:\n    action: core.noop\n");
        Run(c, c.GetNextTasks(), "ask");
        c.UpdateTask("ask", 0, new TaskEvent(Pending));

        c.UpdateTask("ask", 0, new TaskEvent(Running));
        c.UpdateTask("ask", 0, new TaskEvent(Failed, new JsonObject { ["approved"] = false }));

        c.Status.ShouldBe(Failed);
        c.GetNextTasks().ShouldBeEmpty();
    }

    [Fact]
    public void TwoAsks_WaitingAtOnce_KeepTheWorkflowPaused_UntilBothAreAnswered()
    {
        var c = Start(TwoAsks);
        Complete(c, c.GetNextTasks().Single());
        var next = c.GetNextTasks();
        Run(c, next, "ask1");
        Run(c, next, "ask2");
        c.UpdateTask("ask1", 0, new TaskEvent(Pending));
        c.Status.ShouldBe(Pausing, "ask2 still runs");
        c.UpdateTask("ask2", 0, new TaskEvent(Pending));
        c.Status.ShouldBe(Paused);

        c.UpdateTask("ask1", 0, new TaskEvent(Running));
        c.Status.ShouldBe(Pausing, "ask2 still waits");
        c.UpdateTask("ask1", 0, new TaskEvent(Succeeded));
        c.Status.ShouldBe(Paused);
        c.GetNextTasks().ShouldBeEmpty();

        c.UpdateTask("ask2", 0, new TaskEvent(Running));
        c.Status.ShouldBe(Running);
        c.UpdateTask("ask2", 0, new TaskEvent(Succeeded));
        var rest = c.GetNextTasks();
        rest.Select(t => t.Id).ShouldBe(["after1", "after2"]);
        foreach (var task in rest)
        {
            Complete(c, task);
        }

        c.Status.ShouldBe(Succeeded);
    }

    [Fact]
    public void Cancel_WhileATaskRuns_IsCancelingUntilTheTaskStops_ThenCanceled()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 1 });
        var a = c.GetNextTasks().Single();
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Running));

        c.RequestWorkflowStatus(Canceling);
        c.Status.ShouldBe(Canceling);
        c.GetNextTasks().ShouldBeEmpty();
        c.UpdateTask(a.Id, a.Route, new TaskEvent(Canceled));

        c.Status.ShouldBe(Canceled);
        c.State.Sequence.Single().Status.ShouldBe(Canceled);
    }

    [Fact]
    public void Request_ThatTheStatusDoesNotAllow_IsRefused()
    {
        var c = Start("version: 1.0\ntasks:\n  a:\n    action: core.noop\n");
        Complete(c, c.GetNextTasks().Single());

        c.Status.ShouldBe(Succeeded);
        Should.Throw<InvalidOperationException>(() => c.RequestWorkflowStatus(Pausing)).Message.ShouldContain("succeeded");
    }

    [Fact]
    public void WithItems_Concurrency_StartsAtMostThatManyAtOnce_AndBindsNamedItems()
    {
        var c = Start("""
            version: 1.0
            input:
              - hosts
              - ports
            tasks:
              probe:
                with:
                  items: host, port in <% zip(ctx(hosts), ctx(ports)) %>
                  concurrency: 2
                action: core.echo message="<% item(host) %>:<% item(port) %>"
            """, new JsonObject { ["hosts"] = new JsonArray("a", "b", "c"), ["ports"] = new JsonArray(1, 2, 3) });

        var first = c.GetNextTasks().ShouldHaveSingleItem();
        first.ItemsCount.ShouldBe(3);
        first.Actions.Select(a => a.Input["message"]!.GetValue<string>()).ShouldBe(["a:1", "b:2"]);
        foreach (var action in first.Actions)
        {
            c.UpdateTask("probe", 0, new TaskEvent(Running, null, action.ItemId));
        }

        c.GetNextTasks().ShouldBeEmpty();
        c.UpdateTask("probe", 0, new TaskEvent(Succeeded, JsonValue.Create("up a"), 0));
        var second = c.GetNextTasks().ShouldHaveSingleItem();
        second.Actions.ShouldHaveSingleItem().Input["message"]!.GetValue<string>().ShouldBe("c:3");
        c.UpdateTask("probe", 0, new TaskEvent(Running, null, 2));
        c.UpdateTask("probe", 0, new TaskEvent(Succeeded, JsonValue.Create("up b"), 1));
        c.Status.ShouldBe(Running);
        c.UpdateTask("probe", 0, new TaskEvent(Succeeded, JsonValue.Create("up c"), 2));

        c.Status.ShouldBe(Succeeded);
        c.State.Sequence.Single().Result!.ToJsonString().ShouldBe("""["up a","up b","up c"]""");
    }

    [Fact]
    public void Retry_WithDelay_RunsTheTaskAgainAfterTheDelay_InTheSameRun()
    {
        var c = Start("""
            version: 1.0
            tasks:
              flaky:
                action: core.noop
                retry:
                  when: <% failed() %>
                  count: 2
                  delay: 5
            """);

        var first = c.GetNextTasks().Single();
        first.Delay.ShouldBeNull();
        Complete(c, first, Failed);
        var second = c.GetNextTasks().ShouldHaveSingleItem();
        second.Delay.ShouldBe(5);
        c.State.Sequence.Single().Status.ShouldBe(Retrying);
        Complete(c, second, Failed);
        Complete(c, c.GetNextTasks().Single(), Failed);

        c.GetNextTasks().ShouldBeEmpty();
        c.Status.ShouldBe(Failed);
        c.State.Sequence.ShouldHaveSingleItem().Retry!.Tally.ShouldBe(2);
    }

    [Fact]
    public void Expression_ThatFailsInATransition_FailsTheWorkflowWithAnErrorNamingTheTask()
    {
        var c = Start("""
            version: 1.0
            tasks:
              a:
                action: core.noop
                next:
                  - when: <% succeeded() %>
                    publish: x=<% ctx(missing) %>
                    do: b
              b:
                action: core.noop
            """);

        Complete(c, c.GetNextTasks().Single());

        c.Status.ShouldBe(Failed);
        var error = c.State.Errors.ShouldHaveSingleItem();
        error.TaskId.ShouldBe("a");
        error.TaskTransitionId.ShouldBe("b__t0");
        error.Message.ShouldContain("'missing' is not defined");
        c.GetNextTasks().ShouldBeEmpty();
    }

    [Fact]
    public void Input_ThatFailsToEvaluate_FailsTheWorkflowBeforeAnyTask()
    {
        var c = Start("version: 1.0\nvars:\n  - x: <% ctx(nope) %>\ntasks:\n  a:\n    action: core.noop\n");

        c.Status.ShouldBe(Failed);
        c.GetNextTasks().ShouldBeEmpty();
        c.State.Errors.ShouldHaveSingleItem().Message.ShouldStartWith("x: ");
    }

    [Fact]
    public void TaskStatus_ReadsAnotherTasksStatusOnTheSameRoute()
    {
        var c = Start("""
            version: 1.0
            tasks:
              a:
                action: core.noop
                next:
                  - do: b
              b:
                action: core.noop
                next:
                  - when: <% task_status(a) = 'failed' and task_status(never) = null %>
                    do: c
              c:
                action: core.noop
            """);

        Complete(c, c.GetNextTasks().Single(), Failed);
        Complete(c, c.GetNextTasks().Single());

        c.GetNextTasks().ShouldHaveSingleItem().Id.ShouldBe("c");
    }

    [Fact]
    public void UpdateTask_ForATaskThatIsNotWaitingOrRunning_IsRefused()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 1 });

        Should.Throw<InvalidOperationException>(() => c.UpdateTask("c", 0, new TaskEvent(Succeeded)));
        Should.Throw<ArgumentException>(() => c.UpdateTask("a", 0, new TaskEvent("finished")));
    }
}
