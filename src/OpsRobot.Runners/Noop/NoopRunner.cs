using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Noop;

/// <summary>
/// Does nothing and succeeds at once: StackStorm's <c>noop</c> runner, for placeholders and for testing
/// aliases, rules and workflows. Its result is StackStorm's static answer,
/// <c>{ "failed": false, "succeeded": true, "return_code": 0 }</c>.
/// </summary>
public sealed class NoopRunner : IRunner
{
    public IReadOnlyList<string> Names { get; } = ["noop"];

    public IEnumerable<string> Validate(ActionDefinition action) => [];

    public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromResult(RunnerResults.CanceledBeforeStart());
        }

        var result = new JsonObject { ["failed"] = false, ["succeeded"] = true, ["return_code"] = 0 };
        return Task.FromResult(new RunnerResult(RunnerOutcome.Succeeded, result, null, null));
    }
}
