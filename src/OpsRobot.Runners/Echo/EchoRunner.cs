using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Echo;

/// <summary>
/// Writes the <c>message</c> parameter to the output and returns it, without starting a process. StackStorm has
/// no echo runner: its <c>core.echo</c> is a <c>local-shell-cmd</c> action running <c>echo "{{message}}"</c>.
/// This runner gives the result that action gives for the same message —
/// <c>{ stdout, stderr: "", return_code: 0, succeeded: true, failed: false }</c> — with the message exactly as
/// sent (no shell to mangle quotes or <c>$</c>, and never parsed as JSON).
/// </summary>
public sealed class EchoRunner : IRunner
{
    public IReadOnlyList<string> Names { get; } = ["echo"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (RunnerParameters.Declared(action, "message") is null)
        {
            yield return "An echo action needs a 'message' parameter: the text to say.";
        }
    }

    public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromResult(RunnerResults.CanceledBeforeStart());
        }

        var message = RunnerParameters.Get(context.Parameters, "message") is { } node ? RunnerParameters.ToText(node) : string.Empty;
        context.Output.Write(OutputKind.Stdout, message + "\n");
        var result = new JsonObject
        {
            ["stdout"] = message,
            ["stderr"] = string.Empty,
            ["return_code"] = 0,
            ["succeeded"] = true,
            ["failed"] = false,
        };
        return Task.FromResult(new RunnerResult(RunnerOutcome.Succeeded, result, null, null));
    }
}
