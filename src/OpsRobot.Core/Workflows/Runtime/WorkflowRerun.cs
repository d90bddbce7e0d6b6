using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>A re-run that cannot be done; the message is for people.</summary>
public sealed class WorkflowRerunException : Exception
{
    public WorkflowRerunException()
    {
    }

    public WorkflowRerunException(string message)
        : base(message)
    {
    }

    public WorkflowRerunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A re-run that started: the new execution (with its outcome, for whoever reports its end), and the tasks it starts
/// from (<c>task</c> on the main route, <c>task__rROUTE</c> on another, as rehearsal specs name them).
/// </summary>
public sealed record WorkflowRerunStarted(ExecutionHandle Handle, IReadOnlyList<string> Tasks)
{
    /// <summary>The new execution, as it was when it started.</summary>
    public ExecutionRecord Execution => Handle.Execution;
}

/// <summary>
/// Re-runs a workflow that ended without succeeding from its failed tasks, keeping what succeeded (StackStorm's
/// <c>st2 execution re-run ID --tasks …</c>): a new execution of the same action, with the same inputs, whose stored
/// run is the old one's with the failed tasks staged again. Succeeded tasks are not run again; their results and what
/// they published carry over. Chat (<c>!rerun</c>), the API and the CLI all come here; they check access first.
/// </summary>
public sealed class WorkflowRerun(
    ExecutionService executions, IWorkflowStore store, WorkflowGraphCache graphs, WorkflowExpressions expressions, PackCatalog packs, WorkflowStateSeal seal)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private static readonly string EmptyLog = JsonSerializer.Serialize(new WorkflowDispatchLog(), Json);

    /// <summary>Starts the re-run of workflow execution <paramref name="execution"/>.</summary>
    /// <param name="execution">The workflow execution that ended.</param>
    /// <param name="tasks">The tasks to re-run; none means every task whose failure ended the workflow.</param>
    /// <param name="requester">Who asks (the new execution is theirs).</param>
    /// <param name="cancellationToken">Cancels the request, not the re-run once it started.</param>
    /// <exception cref="WorkflowRerunException">It cannot be re-run; the message says why.</exception>
    public async Task<WorkflowRerunStarted> RerunAsync(ExecutionRecord execution, IReadOnlyCollection<string> tasks, ExecutionRequester requester, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(requester);
        var executionId = execution.Id;
        var number = executionId.ToString(CultureInfo.InvariantCulture);
        if (!execution.Status.IsFinished())
        {
            throw new WorkflowRerunException($"Execution #{number} is {execution.Status.ToWire()}; only a workflow that has ended can be re-run.");
        }

        var run = await store.GetAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            throw new WorkflowRerunException(WorkflowRequests.IsWorkflowRunner(execution.RunnerType)
                ? $"Workflow #{number} never started its first task, so there is nothing to carry on from; run it again instead."
                : $"{execution.ActionRef} #{number} is not a workflow; only workflows re-run from a task.");
        }

        if (!run.Finished)
        {
            throw new WorkflowRerunException($"Workflow #{number} has not finished its run yet (it resumes after a restart); try again once it has ended.");
        }

        var action = packs.Current.FindAction(run.ActionRef)
            ?? throw new WorkflowRerunException($"The action {run.ActionRef} of workflow #{number} is no longer loaded, so it cannot run again.");
        WorkflowGraph graph;
        try
        {
            graph = graphs.Load(run.WorkflowFile);
        }
        catch (WorkflowLoadException ex)
        {
            throw new WorkflowRerunException($"The workflow file of #{number} no longer loads: {(ex.Errors.Count > 0 ? ex.Errors[0].ToString() : ex.Message)}", ex);
        }

        WorkflowState state;
        try
        {
            state = seal.ReadState(run);
        }
        catch (Datastore.DatastoreException ex)
        {
            throw new WorkflowRerunException(ex.Message, ex);
        }

        var conductor = new WorkflowConductor(graph, expressions, state);
        IReadOnlyList<string> staged;
        try
        {
            staged = conductor.RequestRerun(tasks);
        }
        catch (InvalidOperationException ex)
        {
            throw new WorkflowRerunException($"Workflow #{number} cannot be re-run: {ex.Message}", ex);
        }

        // The inputs as the workflow had them (the execution record's are masked); immutable ones come from the action.
        var parameters = new JsonObject();
        foreach (var p in action.Parameters.Where(p => !p.Immutable && state.Input.ContainsKey(p.Name)))
        {
            parameters[p.Name] = state.Input[p.Name]?.DeepClone();
        }

        var seeded = JsonSerializer.Serialize(conductor.State, Json);
        var secret = WorkflowStateSeal.MustSeal(action, run);
        var request = new ExecutionRequest(run.ActionRef, parameters, requester)
        {
            ParentId = execution.ParentId,
            BeforeStart = async (record, ct) =>
            {
                var saved = await store.SaveAsync(new WorkflowRunRecord
                {
                    ExecutionId = record.Id,
                    ActionRef = run.ActionRef,
                    WorkflowFile = run.WorkflowFile,
                    // Sealed again for the new execution: a sealed text is bound to its own run.
                    State = secret ? seal.Seal(seeded, record.Id) : seeded,
                    Dispatches = secret ? seal.Seal(EmptyLog, record.Id) : EmptyLog,
                }, 0, ct).ConfigureAwait(false);
                if (!saved)
                {
                    throw new InvalidOperationException($"a workflow run is already stored for execution #{record.Id.ToString(CultureInfo.InvariantCulture)}.");
                }
            },
        };
        try
        {
            var handle = await executions.RequestAsync(request, cancellationToken).ConfigureAwait(false);
            return new WorkflowRerunStarted(handle, [.. staged.Select(t => t.EndsWith("__r0", StringComparison.Ordinal) ? t[..^4] : t)]);
        }
        catch (ExecutionRequestException ex)
        {
            throw new WorkflowRerunException($"Workflow #{number} cannot be re-run: {ex.Message}", ex);
        }
    }
}
