using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Tests.Support;

/// <summary>A runner that only has a name: for tests of loading, where what matters is that the runner exists.</summary>
internal sealed class NamedRunner(string name) : IRunner
{
    public IReadOnlyList<string> Names { get; } = [name];

    public IEnumerable<string> Validate(ActionDefinition action) => [];

    public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken) =>
        Task.FromResult(new RunnerResult(RunnerOutcome.Succeeded, null, 0, null));
}
