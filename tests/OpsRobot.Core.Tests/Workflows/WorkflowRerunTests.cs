using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;
using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Tests.Workflows;

/// <summary>Re-running a workflow that failed from its failed tasks, keeping what succeeded (the engine's part).</summary>
public sealed class WorkflowRerunTests
{
    private static readonly WorkflowExpressions Expressions = new();
    private static readonly WorkflowLoader Loader = new(Expressions);

    private const string Chain = """
        version: 1.0
        input:
          - n
        tasks:
          a:
            action: core.echo message=<% ctx(n) %>
            next:
              - when: <% succeeded() %>
                publish: n=<% ctx(n) + 1 %>
                do: b
          b:
            action: core.echo message=<% ctx(n) %>
            next:
              - when: <% succeeded() %>
                publish: b_said=<% result() %>
                do: c
          c:
            action: core.noop
        output:
          - n: <% ctx(n) %>
          - b_said: <% ctx(b_said) %>
        """;

    private static WorkflowConductor Start(string yaml, JsonObject? inputs = null) =>
        WorkflowConductor.Start(Loader.Load(yaml, "wf.yaml"), Expressions, inputs);

    private static void Complete(WorkflowConductor c, NextTask task, string status = Succeeded, JsonNode? result = null)
    {
        foreach (var action in task.Actions)
        {
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running, null, action.ItemId));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(status, result?.DeepClone(), action.ItemId));
        }
    }

    /// <summary>Stores and restores the state, as the re-run does between the old execution and the new one.</summary>
    private static WorkflowConductor Reload(WorkflowConductor c) =>
        new(c.Graph, Expressions, JsonSerializer.Deserialize<WorkflowState>(JsonSerializer.Serialize(c.State))!);

    private static WorkflowConductor FailedAtB()
    {
        var c = Start(Chain, new JsonObject { ["n"] = 1 });
        Complete(c, c.GetNextTasks().Single());
        Complete(c, c.GetNextTasks().Single(), Failed, new JsonObject { ["stderr"] = "boom" });
        c.Status.ShouldBe(Failed);
        c.RenderOutput();
        return Reload(c);
    }

    [Fact]
    public void RequestRerun_OfTheFailedTask_RunsItAgainWithItsContext_AndTheWorkflowSucceeds()
    {
        var c = FailedAtB();

        var staged = c.RequestRerun(["b"]);
        var b = c.GetNextTasks().ShouldHaveSingleItem();
        Complete(c, b, result: JsonValue.Create("second time"));
        Complete(c, c.GetNextTasks().ShouldHaveSingleItem());

        staged.ShouldBe(["b__r0"]);
        b.Id.ShouldBe("b");
        b.Actions[0].Input["message"]!.GetValue<long>().ShouldBe(2); // what a published before the failure
        c.GetNextTasks().ShouldBeEmpty();
        c.Status.ShouldBe(Succeeded);
        c.State.Sequence.Select(t => $"{t.Id}:{t.Status}").ShouldBe(["a:succeeded", "b:failed", "b:succeeded", "c:succeeded"]);
        c.State.Errors.ShouldBeEmpty();
        c.RenderOutput()!.ToJsonString().ShouldBe("""{"n":2,"b_said":"second time"}""");
    }

    [Fact]
    public void RequestRerun_WithoutTasks_RerunsTheTasksWhoseFailureEndedTheWorkflow()
    {
        var c = FailedAtB();

        c.RequestRerun(null).ShouldBe(["b__r0"]);

        c.GetNextTasks().Select(t => t.Id).ShouldBe(["b"]);
    }

    [Fact]
    public void RequestRerun_OfAFailureThatATransitionHandled_IsNotTheDefault()
    {
        var c = Start("""
            version: 1.0
            tasks:
              a:
                action: core.echo
                next:
                  - when: <% failed() %>
                    do: b
              b:
                action: core.echo
            """);
        Complete(c, c.GetNextTasks().Single(), Failed);
        Complete(c, c.GetNextTasks().Single(), Failed);
        c.Status.ShouldBe(Failed);

        c.RequestRerun(null).ShouldBe(["b__r0"]);
    }

    [Fact]
    public void RequestRerun_WithItems_RerunsOnlyTheItemsThatDidNotSucceed()
    {
        var c = Start("""
            version: 1.0
            tasks:
              each:
                with: <% list(a, b, c) %>
                action: core.echo message=<% item() %>
            """);
        var task = c.GetNextTasks().Single();
        foreach (var action in task.Actions)
        {
            c.UpdateTask(task.Id, task.Route, new TaskEvent(Running, null, action.ItemId));
            c.UpdateTask(task.Id, task.Route, new TaskEvent(action.ItemId == 1 ? Failed : Succeeded, JsonValue.Create(action.ItemId), action.ItemId));
        }

        c.Status.ShouldBe(Failed);
        c = Reload(c);

        c.RequestRerun(["each"]);
        var again = c.GetNextTasks().ShouldHaveSingleItem();
        again.Actions.Select(a => a.ItemId).ShouldBe([1]);
        again.Actions[0].Input["message"]!.GetValue<string>().ShouldBe("b");
        Complete(c, again, result: JsonValue.Create(10));

        c.Status.ShouldBe(Succeeded);
        c.State.Sequence[^1].Result!.ToJsonString().ShouldBe("[0,10,2]");
    }

    [Theory]
    [InlineData("a task that succeeded", "a", "Task 'a' succeeded; only a task that failed")]
    [InlineData("a task that never ran", "c", "Task 'c' never ran")]
    [InlineData("no such task", "nope", "The workflow has no task 'nope'")]
    [InlineData("an engine command", "fail", "The workflow has no task 'fail'")]
    public void RequestRerun_OfATaskThatCannotBeRerun_IsRefusedSayingWhy(string row, string task, string expected)
    {
        var c = FailedAtB();

        var ex = Should.Throw<InvalidOperationException>(() => c.RequestRerun([task]), row);

        ex.Message.ShouldStartWith(expected, Case.Sensitive, row);
        c.Status.ShouldBe(Failed, row);
    }

    [Fact]
    public void RequestRerun_OfAWorkflowStillRunningOrThatSucceeded_IsRefused()
    {
        var running = Start(Chain, new JsonObject { ["n"] = 1 });
        Should.Throw<InvalidOperationException>(() => running.RequestRerun(null)).Message.ShouldContain("only a workflow that has ended");

        var c = Start(Chain, new JsonObject { ["n"] = 1 });
        while (c.GetNextTasks() is { Count: > 0 } next)
        {
            Complete(c, next[0]);
        }

        c.Status.ShouldBe(Succeeded);
        Should.Throw<InvalidOperationException>(() => c.RequestRerun(null)).Message.ShouldBe("The workflow succeeded; there is no failed task to re-run.");
    }
}
