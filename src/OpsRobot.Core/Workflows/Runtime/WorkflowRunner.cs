using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// The <c>workflow</c> runner (StackStorm's <c>orquesta</c>): the action's <c>entry_point</c> is a workflow file, its
/// parameters are the workflow's inputs, and each task's action runs as a child execution through the execution
/// service, so policies, audit and masking apply to every step. The run is stored after every transition; see
/// <see cref="WorkflowRecovery"/> for what happens after a crash.
/// </summary>
public sealed class WorkflowRunner(
    IServiceProvider services, WorkflowGraphCache graphs, WorkflowExpressions expressions, TimeProvider time, ILogger<WorkflowRunner> logger) : IRunner
{
    public IReadOnlyList<string> Names { get; } = ["workflow", "orquesta"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (EntryPoint(action) is { Problem: { } problem })
        {
            return [problem];
        }

        var path = action.EntryPointPath!;
        try
        {
            graphs.Load(path);
            return [];
        }
        catch (WorkflowLoadException ex)
        {
            return ex.Errors.Select(e => e.ToString());
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Resolved when a run starts, not when the runner is built: the execution service needs the runners (a cycle),
        // and offline tools (packs validate) use the runner to check workflow files without any store.
        var executions = services.GetRequiredService<ExecutionService>();
        var store = services.GetRequiredService<IWorkflowStore>();
        var id = long.Parse(context.ExecutionId, NumberStyles.None, CultureInfo.InvariantCulture);
        WorkflowGraph graph;
        try
        {
            var (path, problem) = EntryPoint(context.Action);
            graph = graphs.Load(path ?? throw new WorkflowLoadException(problem!));
        }
        catch (WorkflowLoadException ex)
        {
            return new RunnerResult(RunnerOutcome.Failed, null, null, $"The workflow does not load: {ex.Message}");
        }

        var self = await executions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var requester = ChildRequester(self?.Requester);
        var inputs = new JsonObject();
        foreach (var (name, value) in context.Parameters)
        {
            inputs[name] = value?.DeepClone();
        }

        var seal = services.GetRequiredService<WorkflowStateSeal>();
        var driver = await WorkflowDriver.OpenAsync(store, executions, expressions, time, logger, seal, context.Action, graph, id, context.Action.Ref,
            context.Action.EntryPointPath!, inputs, requester, CancellationToken.None).ConfigureAwait(false);

        // The token fires for a cancel, for the action's timeout, and when OpsRobot stops. A cancel or a timeout ends
        // the workflow (its running children are canceled); a stop leaves it stored, to resume at the next start.
        var started = time.GetUtcNow();
        var timeout = context.Parameters.TryGetValue("timeout", out var t) && t is JsonValue v && v.TryGetValue<long>(out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : context.Action.Timeout;
        async Task<bool> CanceledByUser() =>
            time.GetUtcNow() - started >= timeout
            || (await executions.GetAsync(id, CancellationToken.None).ConfigureAwait(false))?.Status.IsCancelRequested() == true;

        var control = services.GetRequiredService<WorkflowControl>();
        control.Register(driver);
        try
        {
            var status = await driver.RunAsync(CanceledByUser, cancellationToken).ConfigureAwait(false);
            return Outcome(driver, status);
        }
        finally
        {
            control.Unregister(driver);
        }
    }

    /// <summary>
    /// The workflow file of an action, which must lie inside the pack's folder (and not be a link to a file outside
    /// it): a pack may not read other packs' or the system's files through its entry point.
    /// </summary>
    internal static (string? Path, string? Problem) EntryPoint(ActionDefinition action)
    {
        if (action.EntryPoint is null || action.EntryPointPath is not { } path)
        {
            return (null, "a workflow action needs entry_point: the workflow file, relative to the pack's actions folder");
        }

        if (action.EntryPoint.Contains('\0', StringComparison.Ordinal) || string.IsNullOrEmpty(action.PackDirectory))
        {
            return (null, $"entry_point '{action.EntryPoint}' cannot be a workflow file");
        }

        var pack = Path.TrimEndingDirectorySeparator(Path.GetFullPath(action.PackDirectory)) + Path.DirectorySeparatorChar;
        var outside = $"entry_point '{action.EntryPoint}' points outside the pack's folder; a workflow must live inside its pack";
        if (!path.StartsWith(pack, StringComparison.Ordinal))
        {
            return (null, outside);
        }

        if (!File.Exists(path))
        {
            return (null, $"entry_point '{action.EntryPoint}' does not exist (looked for {path})");
        }

        try
        {
            if (new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target && !Path.GetFullPath(target.FullName).StartsWith(pack, StringComparison.Ordinal))
            {
                return (null, outside);
            }
        }
        catch (IOException ex)
        {
            return (null, $"entry_point '{action.EntryPoint}' cannot be read: {ex.Message}");
        }

        return (path, null);
    }

    internal static RunnerResult Outcome(WorkflowDriver driver, string? status) => status switch
    {
        null => new RunnerResult(RunnerOutcome.Canceled, driver.Result(), null, "OpsRobot stopped; the workflow resumes at the next start."),
        WorkflowStatuses.Succeeded => new RunnerResult(RunnerOutcome.Succeeded, driver.Result(), null, null),
        WorkflowStatuses.Canceled or WorkflowStatuses.Canceling => new RunnerResult(RunnerOutcome.Canceled, driver.Result(), null, driver.ErrorSentence()),
        _ => new RunnerResult(RunnerOutcome.Failed, driver.Result(), null, driver.ErrorSentence()),
    };

    /// <summary>Who the children run as: the workflow's requester, through the workflow door (no room, so chat is not flooded).</summary>
    internal static ExecutionRequester ChildRequester(ExecutionRequester? parent) => new()
    {
        Door = ExecutionDoor.Workflow,
        UserName = parent?.UserName ?? "workflow",
    };
}
