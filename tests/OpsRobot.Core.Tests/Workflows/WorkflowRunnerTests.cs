using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Runtime;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Workflows;

/// <summary>What the workflow runner checks of an action when its pack loads.</summary>
public sealed class WorkflowRunnerTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-wfrunner");

    public void Dispose() => _dir.Dispose();

    private static WorkflowRunner Runner()
    {
        var expressions = new WorkflowExpressions();
        return new WorkflowRunner(new EmptyServices(), new WorkflowGraphCache(new WorkflowLoader(expressions)), expressions, TimeProvider.System, NullLogger<WorkflowRunner>.Instance);
    }

    private ActionDefinition Action(string? entryPoint) => new("ops", "flow", "workflow")
    {
        EntryPoint = entryPoint,
        PackDirectory = _dir.Combine("packs/ops"),
    };

    [Fact]
    public void Validate_GoodWorkflowInsideThePack_HasNoProblem()
    {
        _dir.Write("packs/ops/actions/workflows/flow.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n");

        Runner().Validate(Action("workflows/flow.yaml")).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(null, "needs entry_point")]
    [InlineData("../../../../etc/passwd", "points outside the pack's folder")]
    [InlineData("workflows/missing.yaml", "does not exist")]
    public void Validate_BadEntryPoint_SaysWhy(string? entryPoint, string expected)
    {
        Directory.CreateDirectory(_dir.Combine("packs/ops/actions"));

        Runner().Validate(Action(entryPoint)).ShouldHaveSingleItem().ShouldContain(expected);
    }

    [Fact]
    public void Validate_LinkToAFileOutsideThePack_IsRefused()
    {
        var outside = _dir.Write("secret.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n");
        Directory.CreateDirectory(_dir.Combine("packs/ops/actions"));
        File.CreateSymbolicLink(_dir.Combine("packs/ops/actions/flow.yaml"), outside);

        Runner().Validate(Action("flow.yaml")).ShouldHaveSingleItem().ShouldContain("points outside the pack's folder");
    }

    [Fact]
    public void Validate_WorkflowWithErrors_ListsEachWithFileLineAndColumn()
    {
        var file = _dir.Write("packs/ops/actions/flow.yaml", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: b, c\n");

        Runner().Validate(Action("flow.yaml")).ShouldBe(
        [
            $"{file}:6:13: task 'a' goes to 'b', which is not a task of this workflow; did you mean 'a'?",
            $"{file}:6:13: task 'a' goes to 'c', which is not a task of this workflow; did you mean 'a'?",
        ]);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
