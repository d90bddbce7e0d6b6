using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>The offline workflow verbs, run as the real executable.</summary>
public sealed class WorkflowCliTests
{
    private const string Workflow = """
        version: 1.0
        input:
          - host
        tasks:
          start:
            action: core.noop
            next:
              - do: check
          check:
            action: core.local cmd="ping -c 1 <% ctx(host) %>"
            next:
              - when: <% succeeded() %>
                publish: state=<% result().stdout %>
                do: report
              - when: <% failed() %>
                do: fix
          fix:
            action: core.noop
            next:
              - do: check
          report:
            action: core.noop
        output:
          - state: <% ctx(state) %>
        """;

    [Fact]
    public async Task WorkflowRehearse_SpecThatHolds_PrintsOkAndExitsZero()
    {
        using var home = new TestHome(withShippedPacks: false);
        home.Write("workflows/check.yaml", Workflow);
        home.Write("workflows/check.spec.yaml", """
            workflow: check.yaml
            inputs:
              host: db1
            mock_action_executions:
              - task_id: check
                status: failed
              - task_id: check
                result:
                  stdout: up
            expected_task_sequence: [start, check, fix, check, report]
            expected_output:
              state: up
            """);

        var result = await OpsRobotProcess.RunAsync(home.Path, ["workflow", "rehearse", "workflows/check.spec.yaml"]);

        result.ExitCode.ShouldBe(0, result.StandardOutput + result.StandardError);
        result.StandardOutput.ShouldContain("ok     workflows/check.spec.yaml: 5 task run(s), workflow succeeded");
    }

    [Fact]
    public async Task WorkflowRehearse_SpecThatDoesNotHold_PrintsTheDifferenceAndExitsOne()
    {
        using var home = new TestHome(withShippedPacks: false);
        home.Write("workflows/check.yaml", Workflow);
        home.Write("workflows/check.spec.yaml", """
            workflow: check.yaml
            inputs:
              host: db1
            expected_task_sequence: [start, check, fix]
            expected_workflow_status: failed
            """);

        var result = await OpsRobotProcess.RunAsync(home.Path, ["workflow", "rehearse", "workflows/check.spec.yaml"]);

        result.ExitCode.ShouldBe(1, result.StandardOutput + result.StandardError);
        result.StandardOutput.ShouldContain("FAILED workflows/check.spec.yaml");
        result.StandardOutput.ShouldContain("expected_task_sequence: differs at position 3 (expected fix__r0, got report__r0)");
        result.StandardOutput.ShouldContain("expected_workflow_status: expected failed, but the workflow is succeeded.");
        result.StandardError.ShouldContain("1 of 1 rehearsal(s) failed.");
    }

    [Fact]
    public async Task WorkflowRehearse_BrokenSpec_NamesLineAndColumnAndExitsOne()
    {
        using var home = new TestHome(withShippedPacks: false);
        home.Write("workflows/check.yaml", Workflow);
        var spec = home.Write("workflows/bad.spec.yaml", "workflow: check.yaml\nexpected_task_sequence: [check]\nexpected_statsu: failed\n");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["workflow", "rehearse", "workflows/bad.spec.yaml"]);

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldContain($"{spec}:3:1: unknown field 'expected_statsu'");
    }

    [Fact]
    public async Task PacksValidate_WorkflowActionWithABrokenWorkflow_NamesTheWorkflowFileLineAndColumn()
    {
        using var home = new TestHome(withShippedPacks: false);
        home.Write("packs/ops/pack.yaml", "name: ops\nversion: 0.1.0\ndescription: d\n");
        home.Write("packs/ops/actions/flow.yaml", "name: flow\nrunner_type: workflow\nentry_point: workflows/flow.yaml\n");
        var workflow = home.Write("packs/ops/actions/workflows/flow.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - when: <% succeeded( %>\n        do: a\n");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["packs", "validate"]);

        result.ExitCode.ShouldBe(1, result.StandardOutput + result.StandardError);
        result.StandardOutput.ShouldContain($"{workflow}:6:");
        result.StandardOutput.ShouldContain("expression does not parse");
    }

    [Fact]
    public async Task WorkflowValidate_BrokenWorkflow_PrintsFileLineColumnAndExitsOne()
    {
        using var home = new TestHome(withShippedPacks: false);
        var file = home.Write("workflows/bad.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: b\n");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["workflow", "validate", file]);

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldContain($"error  {file}:6:13: task 'a' goes to 'b', which is not a task of this workflow");
    }
}
