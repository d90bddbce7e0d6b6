using System.Text.Json.Nodes;

namespace OpsRobot.Core.Actions;

/// <summary>Which stream a piece of output came from.</summary>
public enum OutputKind
{
    Stdout,
    Stderr,
}

/// <summary>
/// Where a runner writes output as it happens. Writes must be cheap and never block on the reader: the execution
/// service buffers, persists and streams them.
/// </summary>
public interface IRunnerOutput
{
    void Write(OutputKind kind, string text);
}

/// <summary>How a run ended, from the runner's point of view.</summary>
public enum RunnerOutcome
{
    Succeeded,
    Failed,

    /// <summary>The cancellation token fired; the execution service knows whether that was a timeout or a cancel.</summary>
    Canceled,
}

/// <summary>What a runner hands back.</summary>
/// <param name="Outcome">Succeeded, failed or canceled.</param>
/// <param name="Result">The structured result (parsed JSON output, HTTP answer, …), or null.</param>
/// <param name="ExitCode">The process's exit code, when there was a process.</param>
/// <param name="Error">A sentence explaining a failure, for people.</param>
public sealed record RunnerResult(RunnerOutcome Outcome, JsonNode? Result, int? ExitCode, string? Error);

/// <summary>Everything a runner needs for one run.</summary>
/// <param name="ExecutionId">The execution's id, for logs and environment variables.</param>
/// <param name="Action">The action definition as it was when the execution started.</param>
/// <param name="Parameters">Validated, typed parameters, defaults applied. Secret values are in clear here and nowhere else.</param>
/// <param name="Output">Where to stream output.</param>
public sealed record RunnerContext(string ExecutionId, ActionDefinition Action, IReadOnlyDictionary<string, JsonNode?> Parameters, IRunnerOutput Output)
{
    /// <summary>
    /// Who asked for the execution, for runners that decide per target at run time (the <c>ssh</c> runner checks
    /// each host a CMDB selection resolves to). Null when the caller is not the execution service; such runners
    /// then refuse every target (access control fails closed).
    /// </summary>
    public Executions.ExecutionRequester? Requester { get; init; }
}

/// <summary>
/// Runs actions of one kind. Adding a runner is one folder: implement this and register it with
/// <c>services.AddRunner&lt;T&gt;()</c>.
/// </summary>
public interface IRunner
{
    /// <summary>The <c>runner_type</c> names this runner answers to (ours first, then StackStorm's, e.g. "shell", "local-shell-cmd").</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Checks what this runner needs of an action when its pack loads (an entry point that exists, a required
    /// parameter); each string is one problem, worded for the pack author.
    /// </summary>
    IEnumerable<string> Validate(ActionDefinition action);

    /// <summary>
    /// Runs the action. On cancellation the runner stops all it started (a process tree, a request) and returns
    /// <see cref="RunnerOutcome.Canceled"/> rather than throwing.
    /// </summary>
    Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken);
}
