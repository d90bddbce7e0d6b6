using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Rehearsal;

namespace OpsRobot.Core.Tests.Workflows;

/// <summary>
/// The rehearsal specs under Workflows/Specs, in orquesta-rehearse's format, run against Orquesta's own test
/// workflows (Workflows/Reference): the expectations come from Orquesta's documented behaviour for each of them.
/// </summary>
public sealed class RehearsalSpecTests
{
    private static readonly string SpecsFolder = Path.Combine(AppContext.BaseDirectory, "Workflows", "Specs");

    internal static WorkflowRehearsal NewRehearsal()
    {
        var expressions = new WorkflowExpressions();
        return new WorkflowRehearsal(new WorkflowLoader(expressions), expressions);
    }

    public static TheoryData<string> Specs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(SpecsFolder, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Rehearse_Spec_EveryExpectationHolds(string name)
    {
        var result = NewRehearsal().Run(Path.Combine(SpecsFolder, name + ".yaml"));

        result.Passed.ShouldBeTrue(string.Join(Environment.NewLine, result.Differences));
    }

    [Fact]
    public void Specs_CoverEveryReferenceWorkflow()
    {
        var covered = Directory.EnumerateFiles(SpecsFolder, "*.yaml")
            .Select(f => RehearsalSpec.Load(f).WorkflowPath)
            .Select(Path.GetFileName)
            .ToHashSet(StringComparer.Ordinal);
        var reference = Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Workflows", "Reference"), "*.yaml").Select(Path.GetFileName);

        reference.Where(r => !covered.Contains(r)).ShouldBeEmpty();
    }
}
