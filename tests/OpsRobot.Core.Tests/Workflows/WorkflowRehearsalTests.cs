using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Rehearsal;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Workflows;

/// <summary>The rehearsal runner itself: differences it reports, and specs it refuses.</summary>
public sealed class WorkflowRehearsalTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-rehearse");

    public void Dispose() => _dir.Dispose();

    private const string Workflow = """
        version: 1.0
        input:
          - n
        tasks:
          a:
            action: core.noop
            next:
              - when: <% succeeded() %>
                publish: doubled=<% ctx(n) * 2 %>
                do: b
              - when: <% failed() %>
                do: c
          b:
            action: core.noop
          c:
            action: core.noop
        output:
          - doubled: <% ctx(doubled) %>
        """;

    private RehearsalResult Rehearse(string spec)
    {
        _dir.Write("wf.yaml", Workflow);
        var path = _dir.Write("spec.yaml", spec);
        return RehearsalSpecTests.NewRehearsal().Run(path);
    }

    [Fact]
    public void Run_ExpectationsThatHold_Pass()
    {
        var result = Rehearse("workflow: wf.yaml\ninputs: {n: 21}\nexpected_task_sequence: [a, b]\nexpected_output: {doubled: 42}\n");

        result.Passed.ShouldBeTrue(string.Join("\n", result.Differences));
        result.TaskSequence.ShouldBe(["a__r0", "b__r0"]);
    }

    [Fact]
    public void Run_WrongSequenceStatusAndOutput_ReportsEachDifferenceReadably()
    {
        var result = Rehearse("""
            workflow: wf.yaml
            inputs: {n: 21}
            mock_action_executions:
              - task_id: a
                status: failed
            expected_task_sequence: [a, b]
            expected_workflow_status: succeeded
            expected_output: {doubled: 42}
            """);

        // a's failure is handled (c runs), but the output reads a variable only the success path publishes.
        result.Passed.ShouldBeFalse();
        result.Differences.Count.ShouldBe(4);
        result.Differences[0].ShouldStartWith("expected_task_sequence: differs at position 2 (expected b__r0, got c__r0)");
        result.Differences[1].ShouldBe("expected_workflow_status: expected succeeded, but the workflow is failed.");
        result.Differences[2].ShouldBe("expected_output: expected" + Environment.NewLine + "  {\"doubled\":42}" + Environment.NewLine + "but got" + Environment.NewLine + "  null");
        result.Differences[3].ShouldStartWith("(the workflow's errors, for reference:");
        result.Differences[3].ShouldContain("the variable 'doubled' is not defined");
        result.WorkflowStatus.ShouldBe(WorkflowStatuses.Failed);
    }

    [Fact]
    public void Run_MockForAnUnknownTask_IsADifference()
    {
        var result = Rehearse("workflow: wf.yaml\nmock_action_executions:\n  - task_id: zz\nexpected_task_sequence: [a, b]\n");

        result.Differences.ShouldHaveSingleItem().ShouldContain("there is no task 'zz'");
    }

    [Fact]
    public void Run_WorkflowThatDoesNotLoad_ReportsItsErrors()
    {
        _dir.Write("bad.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: nowhere\n");
        var path = _dir.Write("spec.yaml", "workflow: bad.yaml\nexpected_task_sequence: [a]\n");

        var result = RehearsalSpecTests.NewRehearsal().Run(path);

        result.Differences.ShouldHaveSingleItem().ShouldContain("bad.yaml:6:13: task 'a' goes to 'nowhere'");
    }

    [Fact]
    public void Run_ExpectedInspectionErrors_PassesWhenTheWorkflowIsRefused()
    {
        _dir.Write("bad.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: nowhere\n");
        var path = _dir.Write("spec.yaml", "workflow: bad.yaml\nexpected_task_sequence: []\nexpected_inspection_errors:\n  semantics:\n    - message: The task \"nowhere\" is not defined.\n");

        RehearsalSpecTests.NewRehearsal().Run(path).Passed.ShouldBeTrue();
    }

    [Fact]
    public void Run_MocksThatLoopForever_StopWithAClearDifference()
    {
        _dir.Write("loop.yaml", "version: 1.0\ntasks:\n  start:\n    action: core.noop\n    next:\n      - do: a\n  a:\n    action: core.noop\n    next:\n      - when: <% succeeded() %>\n        do: a\n");
        var path = _dir.Write("spec.yaml", "workflow: loop.yaml\nexpected_task_sequence: [start]\n");

        var result = RehearsalSpecTests.NewRehearsal().Run(path);

        result.Differences[0].ShouldContain("the workflow does not end");
    }

    [Theory]
    [InlineData("expected_task_sequence: [a]\n", "missing 'workflow'")]
    [InlineData("workflow: wf.yaml\n", "missing 'expected_task_sequence'")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: a\n", "must be a list of names")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: [a]\nexpected_workflow_status: done\n", "'done' is not a workflow status")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: [a]\nmock_action_executions:\n  - task_id: a\n    statuss: failed\n", "unknown field 'statuss'")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: [a]\nmock_action_executions:\n  - task_id: a\n    seq_id: -1\n", "seq_id must be a whole number")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: [a]\nmock_action_executions:\n  - status: failed\n", "needs task_id")]
    [InlineData("workflow: wf.yaml\nexpected_task_sequence: [a]\nexpected_output: [1]\n", "expected_output must be a mapping")]
    [InlineData("- a list", "one mapping")]
    [InlineData("workflow: [unclosed", "")]
    public void Load_MalformedSpec_IsRefusedWithItsPosition(string spec, string expected)
    {
        var path = _dir.Write("bad.spec.yaml", spec);

        var ex = Should.Throw<WorkflowLoadException>(() => RehearsalSpec.Load(path));

        ex.Errors.ShouldContain(e => e.Message.Contains(expected, StringComparison.Ordinal) && e.File == path);
    }
}
