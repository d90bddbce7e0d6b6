using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Tests.Workflows;

public sealed class WorkflowLoaderTests
{
    private static readonly WorkflowLoader Loader = new(new WorkflowExpressions());

    public static TheoryData<string> ReferenceWorkflows()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Workflows", "Reference"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceWorkflows))]
    public void LoadFile_OrquestaReferenceWorkflow_Loads(string name)
    {
        var graph = Loader.LoadFile(Path.Combine(AppContext.BaseDirectory, "Workflows", "Reference", name));

        graph.Definition.Tasks.ShouldNotBeEmpty();
        graph.Roots.ShouldNotBeEmpty();
    }

    private static IReadOnlyList<WorkflowError> Errors(string yaml)
    {
        var (graph, errors) = Loader.TryLoad(yaml, "wf.yaml");
        graph.ShouldBeNull();
        errors.ShouldNotBeEmpty();
        return errors;
    }

    [Fact]
    public void TryLoad_UnknownTaskInDo_NamesFileLineColumnAndSuggests()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              task1:
                action: core.noop
                next:
                  - when: <% succeeded() %>
                    do: tsak2
              task2:
                action: core.noop
            """);

        errors.Count.ShouldBe(1);
        errors[0].File.ShouldBe("wf.yaml");
        (errors[0].Line, errors[0].Column).ShouldBe((7, 13));
        errors[0].Message.ShouldContain("'tsak2'");
        errors[0].Message.ShouldContain("did you mean 'task2'");
    }

    [Fact]
    public void TryLoad_TaskOnlyReachableFromACycleWithoutEntry_IsUnreachable()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              start:
                action: core.noop
              a:
                action: core.noop
                next:
                  - do: b
              b:
                action: core.noop
                next:
                  - do: a
            """);

        errors.Select(e => e.Message).ShouldBe(
        [
            "task 'a' can never run: only tasks that no start task leads to go to it",
            "task 'b' can never run: only tasks that no start task leads to go to it",
        ]);
        (errors[0].Line, errors[0].Column).ShouldBe((5, 3));
    }

    [Fact]
    public void TryLoad_JoinCountAboveInboundBranches_CanNeverComplete()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              a:
                action: core.noop
                next:
                  - do: b, c
              b:
                next:
                  - do: d
              c:
                next:
                  - do: d
              d:
                join: 3
                action: core.noop
            """);

        errors.ShouldHaveSingleItem().Message.ShouldBe("join task 'd' waits for 3 branches but only 2 task(s) lead to it, so it can never run");
        (errors[0].Line, errors[0].Column).ShouldBe((14, 11));
    }

    [Fact]
    public void TryLoad_JoinOfBranchesSplitAtDifferentLevels_CanNeverComplete()
    {
        // t4 is reached from t2 and t3 (a split), so it runs twice; t6 joins one of t4's runs with t5's single run.
        var errors = Errors("""
            version: 1.0
            tasks:
              t1:
                next:
                  - do: t2, t3, t5
              t2:
                next:
                  - do: t4
              t3:
                next:
                  - do: t4
              t4:
                next:
                  - do: t6
              t5:
                next:
                  - do: t6
              t6:
                join: all
            """);

        errors.ShouldHaveSingleItem().Message.ShouldStartWith("join task 't6' can never complete: its branches were split at different levels (through t4)");
    }

    [Fact]
    public void TryLoad_ExpressionThatDoesNotParse_PointsIntoTheExpression()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              task1:
                action: core.echo
                input:
                  message: <% ctx(x) + %>
            """);

        var error = errors.ShouldHaveSingleItem();
        error.Message.ShouldStartWith("expression does not parse:");
        error.Line.ShouldBe(6);
        error.Column.ShouldBeGreaterThan(16);
    }

    [Fact]
    public void TryLoad_UnknownFunction_IsAnError()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              task1:
                action: core.noop
                next:
                  - when: <% suceeded() %>
            """);

        errors.ShouldHaveSingleItem().Message.ShouldContain("suceeded");
    }

    [Theory]
    [InlineData("core.echo message=\"unterminated", "opening \" without its closing one")]
    [InlineData("core.echo message=", "has no value")]
    [InlineData("core.echo hello", "'hello' is not a key=value pair")]
    [InlineData("core.echo a=1 a=2", "'a' is given twice")]
    [InlineData("core.echo message=<% ctx(x)", "never closed")]
    public void TryLoad_BrokenInlineParameters_AreErrors(string action, string expected)
    {
        var errors = Errors($"""
            version: 1.0
            tasks:
              task1:
                action: '{action}'
            """);

        errors.ShouldHaveSingleItem().Message.ShouldContain(expected);
        (errors[0].Line, errors[0].Column).ShouldBe((4, 13));
    }

    [Fact]
    public void TryLoad_BrokenInlinePublish_IsAnError()
    {
        var errors = Errors("""
            version: 1.0
            tasks:
              task1:
                action: core.noop
                next:
                  - publish: a=<% result() %> oops
            """);

        errors.ShouldHaveSingleItem().Message.ShouldContain("'oops' is not a key=value pair");
    }

    [Theory]
    [InlineData("version: 2.0\ntasks:\n  a:\n    action: core.noop", "version '2.0' is not supported")]
    [InlineData("version: 1.0\ntasks: {}", "needs 'tasks'")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    retries: 3", "unknown field 'retries'")]
    [InlineData("version: 1.0\ntasks:\n  continue:\n    action: core.noop", "engine command")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    join: some", "join must be 'all'")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    with: ctx(xs)\n    action: core.noop", "items must be one expression")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    with: <% ctx(xs) %>", "no action")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    retry:\n      when: <% failed() %>", "retry needs 'count'")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    delay: soon", "'delay' must be a whole number")]
    [InlineData("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: a, a", "appears twice")]
    [InlineData("- just\n- a list", "expected a workflow")]
    [InlineData("version: 1.0\ntasks:\n  a: [unclosed", "")]
    public void TryLoad_MalformedWorkflow_IsRefusedWithAClearError(string yaml, string expected)
    {
        Errors(yaml).ShouldContain(e => e.Message.Contains(expected, StringComparison.Ordinal) && e.Line > 0);
    }

    [Fact]
    public void TryLoad_DeeplyNestedInput_IsRefusedBeforeParsing()
    {
        var yaml = "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    input:\n      x: " + new string('[', 500) + new string(']', 500);

        Errors(yaml).ShouldHaveSingleItem().Message.ShouldContain("nested deeper than");
    }

    [Fact]
    public void Load_InlineForms_KeepTypesAndOrder()
    {
        var graph = Loader.Load("""
            version: 1.0
            tasks:
              a:
                action: core.local cmd="echo 'hi there'" timeout=30 sudo=false env={"A":"1"} msg=<% ctx(x) %> raw='single quoted'
                next:
                  - publish: b=<% result() %> a=1
                    do: noop
            """, "wf.yaml");

        var task = graph.Task("a").ShouldNotBeNull();
        task.Action.ShouldBe("core.local");
        System.Text.Json.Nodes.JsonNode.DeepEquals(task.Input, System.Text.Json.Nodes.JsonNode.Parse("""{"cmd":"echo 'hi there'","timeout":30,"sudo":false,"env":{"A":"1"},"msg":"<% ctx(x) %>","raw":"single quoted"}""")).ShouldBeTrue(task.Input!.ToJsonString());
        task.Input.AsObject().Select(kv => kv.Key).ShouldBe(["cmd", "timeout", "sudo", "env", "msg", "raw"]);
        task.Next[0].Publish.Select(p => p.Name).ShouldBe(["b", "a"]);
    }

    [Fact]
    public void Load_TransitionWithoutDo_GoesToContinue_AndDoRetryGivesARetryPolicy()
    {
        var graph = Loader.Load("""
            version: 1.0
            tasks:
              a:
                action: core.noop
                next:
                  - when: <% succeeded() %>
                    publish: x=1
                  - when: <% failed() %>
                    do: retry
            """, "wf.yaml");

        graph.Next("a").ShouldHaveSingleItem().To.ShouldBe("continue");
        var retry = graph.Retry("a").ShouldNotBeNull();
        retry.When.ShouldBe("<% failed() %>");
        retry.Count!.GetValue<int>().ShouldBe(3);
    }
}
