using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Expressions;
using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Drives one workflow run: asks the engine what to start, stores that, starts the child executions through the
/// execution service, and feeds their outcomes back, storing the state after each step. Storing comes first every
/// time, so after a crash the stored run says exactly which tasks completed, which were in flight and which child
/// execution each one was.
/// </summary>
internal sealed partial class WorkflowDriver
{
    /// <summary>How many rounds of tasks without actions one step may go through before the run is failed as a loop.</summary>
    private const int MaxRoundsWithoutActions = 10_000;

    private readonly ExecutionService _executions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WorkflowConductor _conductor;
    private readonly List<WorkflowDispatch> _dispatches;
    private readonly WorkflowDispatchLog _log;
    private readonly Dictionary<long, Task<ExecutionRecord?>> _waiting = [];
    private readonly ExecutionRequester _requester;
    private readonly Channel<Command> _commands = Channel.CreateUnbounded<Command>();

    /// <summary>Stores the run after each step (encrypted when it carries secrets).</summary>
    private readonly WorkflowRunWriter _writer;

    /// <summary>
    /// The secret values the run carries, handed to every child execution to mask: the workflow's secret inputs, and
    /// the secrets its own requester handed it (a datastore secret a rule passed in) while this process runs it.
    /// </summary>
    private readonly IReadOnlyCollection<string> _secretValues;

    /// <summary>The status the execution record shows, as far as this driver last told it.</summary>
    private ExecutionStatus _reported = ExecutionStatus.Running;

    /// <summary>
    /// Whether someone asked for the pause (and has not resumed since). A workflow paused only because an ask waits
    /// carries on once it is answered; one paused on request stays paused until it is resumed. Kept in memory: after a
    /// restart an answer wakes the workflow whoever paused it.
    /// </summary>
    private bool _pausedOnRequest;

    /// <summary>
    /// What the driver is asked from outside its loop: a pause or resume (with the reply to give), or news that a
    /// child now waits for people.
    /// </summary>
    private sealed record Command(string? Status, TaskCompletionSource<string?>? Reply, long? WaitingChild);

    private WorkflowDriver(
        ExecutionService executions, TimeProvider time, ILogger logger, WorkflowConductor conductor,
        WorkflowDispatchLog log, WorkflowRunWriter writer, ExecutionRequester requester, Actions.ActionDefinition? action)
    {
        // Recomputed from the run's stored (sealed) inputs and the action's secret parameters, so a run resumed after a
        // restart, which the execution service no longer runs, still masks its children.
        _secretValues = [.. executions.SecretValuesOf(writer.ExecutionId)
            .Concat(action?.Parameters.Where(p => p.Secret).SelectMany(p => Executions.SecretMasker.ValuesOf(conductor.State.Input[p.Name])) ?? [])
            .Distinct(StringComparer.Ordinal)];
        _executions = executions;
        _time = time;
        _logger = logger;
        _conductor = conductor;
        _log = log;
        _dispatches = log.InFlight;
        _writer = writer;
        _requester = requester;
    }

    public long ExecutionId => _writer.ExecutionId;

    /// <summary>The secret values the run carries (see the field): what its own result must be masked with where no execution service masks it.</summary>
    public IReadOnlyCollection<string> SecretValues => _secretValues;

    public string ActionRef => _writer.ActionRef;

    public string WorkflowFile => _writer.WorkflowFile;

    public WorkflowConductor Conductor => _conductor;

    /// <summary>
    /// Opens the stored run of this execution, or starts and stores a new one. The state is stored encrypted with
    /// <c>seal</c> when <see cref="WorkflowStateSeal.MustSeal"/> says so (<c>action</c>, when known, has secret
    /// parameters, or the run was stored encrypted), or when its execution was handed secret values.
    /// </summary>
    public static async Task<WorkflowDriver> OpenAsync(
        IWorkflowStore store, ExecutionService executions, WorkflowExpressions expressions, TimeProvider time, ILogger logger, WorkflowStateSeal seal, Actions.ActionDefinition? action,
        WorkflowGraph graph, long executionId, string actionRef, string workflowFile, JsonObject inputs, ExecutionRequester requester, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(executionId, cancellationToken).ConfigureAwait(false);
        // Sealed too when the run was handed secrets (a datastore secret a rule put into an input that is not secret).
        var sealWith = WorkflowStateSeal.MustSeal(action, stored) || executions.SecretValuesOf(executionId).Count > 0 ? seal : null;
        if (stored is not null)
        {
            return new WorkflowDriver(executions, time, logger, new WorkflowConductor(graph, expressions, seal.ReadState(stored)), seal.ReadDispatches(stored),
                new WorkflowRunWriter(store, executionId, actionRef, workflowFile, stored.Version, sealWith), requester, action);
        }

        var conductor = WorkflowConductor.Start(graph, expressions, inputs);
        var driver = new WorkflowDriver(executions, time, logger, conductor, new WorkflowDispatchLog(),
            new WorkflowRunWriter(store, executionId, actionRef, workflowFile, 0, sealWith), requester, action);
        await driver.SaveAsync(cancellationToken).ConfigureAwait(false);
        return driver;
    }

    /// <summary>
    /// Runs until the workflow completes or <paramref name="cancellationToken"/> fires. Returns the final status, or
    /// null when stopped before the end (the stored run carries on after the next start).
    /// </summary>
    public async Task<string?> RunAsync(Func<Task<bool>> canceledByUser, CancellationToken cancellationToken)
    {
        await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        await ReportStatusAsync().ConfigureAwait(false);
        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (!await canceledByUser().ConfigureAwait(false))
                {
                    return null;
                }

                await CancelAsync().ConfigureAwait(false);
                break;
            }

            // One save per step: the outcomes just applied and the tasks they start are stored together, before any
            // of those tasks starts. A child's id is stored with the next step; after a crash in between, the child is
            // found among the run's children (see ReconcileAsync).
            var replies = ApplyCommands();
            var planned = Plan();
            await SaveAsync(CancellationToken.None).ConfigureAwait(false);
            await ReportStatusAsync().ConfigureAwait(false);
            foreach (var (reply, status) in replies)
            {
                reply.TrySetResult(status);
            }

            var beforeStarts = _conductor.Status;
            foreach (var dispatch in planned)
            {
                await StartAsync(dispatch, CancellationToken.None).ConfigureAwait(false);
            }

            if (_conductor.Status != beforeStarts)
            {
                // A resumed workflow is running again once its tasks run, not when the first of them ends.
                await SaveAsync(CancellationToken.None).ConfigureAwait(false);
                await ReportStatusAsync().ConfigureAwait(false);
            }

            if (_waiting.Count == 0 && planned.Count == 0 && _conductor.Status != Paused)
            {
                break;
            }

            try
            {
                // Wait for a child to end, or for a pause or resume; a paused workflow with nothing running waits
                // for the resume (or a cancel) alone.
                var command = _commands.Reader.WaitToReadAsync(cancellationToken).AsTask();
                await Task.WhenAny(_waiting.Values.Cast<Task>().Append(command)).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                continue;
            }

            await ApplyFinishedAsync().ConfigureAwait(false);
        }

        _commands.Writer.TryComplete();
        while (_commands.Reader.TryRead(out var late))
        {
            late.Reply?.TrySetException(new InvalidOperationException($"The workflow is {_conductor.Status}."));
        }

        _conductor.RenderOutput();
        await SaveAsync(CancellationToken.None, finished: true).ConfigureAwait(false);
        return _conductor.Status;
    }

    /// <summary>
    /// Asks the running workflow to pause (<c>pausing</c>) or resume (<c>resuming</c>); the answer is its status once
    /// the request is stored. A pause lets running tasks finish and starts nothing new.
    /// </summary>
    /// <exception cref="InvalidOperationException">The workflow cannot go there from where it is, or has ended.</exception>
    public Task<string?> RequestAsync(string status)
    {
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _commands.Writer.TryWrite(new Command(status, reply, null))
            ? reply.Task
            : Task.FromException<string?>(new InvalidOperationException($"The workflow is {_conductor.Status}."));
    }

    /// <summary>
    /// Says that child execution <paramref name="childId"/> waits for people (an ask): its task goes <c>pending</c>
    /// and the workflow <c>paused</c> (as StackStorm shows them), stored and shown like any pause. Its answer ends the
    /// wait when the child's outcome comes back. False when the run has ended.
    /// </summary>
    public bool ChildWaiting(long childId) => _commands.Writer.TryWrite(new Command(null, null, childId));

    /// <summary>
    /// Shows a pause on the execution record (<c>pausing</c>, <c>paused</c>, <c>resuming</c>, <c>running</c> again),
    /// after the state that caused it is stored. The record's end is the execution service's, not the driver's.
    /// </summary>
    private async Task ReportStatusAsync()
    {
        var status = _conductor.Status switch
        {
            Running => ExecutionStatus.Running,
            Pausing => ExecutionStatus.Pausing,
            Paused => ExecutionStatus.Paused,
            Resuming => ExecutionStatus.Resuming,
            _ => (ExecutionStatus?)null,
        };
        if (status is not { } next || next == _reported)
        {
            return;
        }

        // Refused only when the record left the running states (a cancel came in): the cancel path ends it.
        await _executions.ReportWorkflowStatusAsync(ExecutionId, next, CancellationToken.None).ConfigureAwait(false);
        _reported = next;
    }

    private List<(TaskCompletionSource<string?> Reply, string? Status)> ApplyCommands()
    {
        var replies = new List<(TaskCompletionSource<string?>, string?)>();
        while (_commands.Reader.TryRead(out var command))
        {
            if (command.WaitingChild is { } child)
            {
                // Gone already when the child ended before this was read: its outcome is applied, nothing waits.
                if (_dispatches.FirstOrDefault(d => d.ChildId == child) is { } waiting)
                {
                    _conductor.UpdateTask(waiting.TaskId, waiting.Route, new TaskEvent(Pending, null, waiting.ItemId));
                }

                continue;
            }

            try
            {
                _conductor.RequestWorkflowStatus(command.Status!);
                _pausedOnRequest = command.Status is Pausing or Paused;
                replies.Add((command.Reply!, _conductor.Status));
            }
            catch (InvalidOperationException ex)
            {
                command.Reply!.TrySetException(ex);
            }
        }

        return replies;
    }

    /// <summary>The run's result as the workflow execution records it: its output, and its errors when it has some.</summary>
    public JsonObject Result()
    {
        var result = new JsonObject { ["output"] = _conductor.State.Output?.DeepClone() };
        if (_conductor.State.Errors.Count > 0)
        {
            result["errors"] = new JsonArray([.. _conductor.State.Errors.Select(e => (JsonNode)e.ToJson())]);
        }

        return result;
    }

    /// <summary>A sentence for the execution's error when the run did not succeed.</summary>
    public string? ErrorSentence() => _conductor.Status == Succeeded
        ? null
        : _conductor.State.Errors.Count == 0
            ? $"The workflow {_conductor.Status}."
            : $"The workflow {_conductor.Status}: {_conductor.State.Errors[^1].Message}" +
              (_conductor.State.Errors[^1].TaskId is { } task ? $" (task {task})" : string.Empty);

    /// <summary>Asks the engine what to start, marks it requested and records a dispatch for each action. No I/O.</summary>
    private List<WorkflowDispatch> Plan()
    {
        var planned = new List<WorkflowDispatch>();
        var rounds = 0;
        while (true)
        {
            if (++rounds > MaxRoundsWithoutActions)
            {
                _conductor.Fail($"The workflow went round {MaxRoundsWithoutActions:N0} times through tasks without actions; it loops without end.");
                return planned;
            }

            var next = _conductor.GetNextTasks();
            if (next.Count == 0)
            {
                return planned;
            }

            foreach (var task in next)
            {
                if (task.ItemsCount == 0)
                {
                    // Nothing to iterate: the task succeeds at once with an empty list.
                    _conductor.UpdateTask(task.Id, task.Route, new TaskEvent(Running));
                    _conductor.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, new JsonArray()));
                    continue;
                }

                foreach (var action in task.Actions)
                {
                    _conductor.UpdateTask(task.Id, task.Route, new TaskEvent(Requested, null, action.ItemId));
                    if (action.Action is null)
                    {
                        // A task without an action only routes: it succeeds as soon as it starts.
                        _conductor.UpdateTask(task.Id, task.Route, new TaskEvent(Running, null, action.ItemId));
                        _conductor.UpdateTask(task.Id, task.Route, new TaskEvent(Succeeded, null, action.ItemId));
                        continue;
                    }

                    var dispatch = new WorkflowDispatch
                    {
                        Key = ++_log.LastKey,
                        TaskId = task.Id,
                        Route = task.Route,
                        ItemId = action.ItemId,
                        Action = action.Action,
                        Input = action.Input,
                        Delay = task.Delay ?? 0,
                    };
                    _dispatches.Add(dispatch);
                    planned.Add(dispatch);
                }
            }
        }
    }

    /// <summary>Starts a dispatch's child execution now, or after its delay.</summary>
    private async Task StartAsync(WorkflowDispatch dispatch, CancellationToken cancellationToken)
    {
        if (dispatch.Delay > 0 && dispatch.ChildId is null)
        {
            _waiting[dispatch.Key] = DelayAsync(dispatch.Delay);
            return;
        }

        try
        {
            var handle = await _executions.RequestAsync(
                new ExecutionRequest(dispatch.Action!, dispatch.Input.DeepClone().AsObject(), _requester) { ParentId = ExecutionId, SecretValues = _secretValues },
                cancellationToken).ConfigureAwait(false);
            dispatch.ChildId = handle.Execution.Id;
            _log.LastChildId = Math.Max(_log.LastChildId, handle.Execution.Id);
            _waiting[dispatch.Key] = Outcome(handle.Outcome);

            // The task runs from here on, as far as the workflow can tell (the child's own record says more).
            _conductor.UpdateTask(dispatch.TaskId, dispatch.Route, new TaskEvent(Running, null, dispatch.ItemId));
            LogStarted(_logger, ExecutionId, dispatch.TaskId, handle.Execution.Id);
        }
        catch (ExecutionRequestException ex)
        {
            // Unknown action, bad parameters: the task fails with the reason as its result.
            _waiting[dispatch.Key] = Task.FromResult<ExecutionRecord?>(new ExecutionRecord
            {
                Id = 0,
                ActionRef = dispatch.Action!,
                RunnerType = string.Empty,
                Parameters = [],
                Status = ExecutionStatus.Failed,
                Requester = _requester,
                CreatedAt = _time.GetUtcNow(),
                Error = ex.Message,
            });
        }
    }

    private async Task<ExecutionRecord?> DelayAsync(int seconds)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds), _time).ConfigureAwait(false);
        return null;
    }

    private static async Task<ExecutionRecord?> Outcome(Task<ExecutionRecord> outcome) => await outcome.ConfigureAwait(false);

    /// <summary>Feeds every finished child back into the engine.</summary>
    private async Task ApplyFinishedAsync()
    {
        foreach (var (key, task) in _waiting.Where(kv => kv.Value.IsCompleted).ToList())
        {
            _waiting.Remove(key);
            var dispatch = _dispatches.First(d => d.Key == key);
            ExecutionRecord? record;
            try
            {
                record = await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                record = new ExecutionRecord
                {
                    Id = dispatch.ChildId ?? 0,
                    ActionRef = dispatch.Action!,
                    RunnerType = string.Empty,
                    Parameters = [],
                    Status = ExecutionStatus.Failed,
                    Requester = _requester,
                    CreatedAt = _time.GetUtcNow(),
                    Error = $"OpsRobot lost track of the action: {ex.Message}",
                };
            }

            if (record is null)
            {
                // The delay is over: start it now.
                dispatch.Delay = 0;
                await StartAsync(dispatch, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            Apply(dispatch, record);
        }
    }

    private void Apply(WorkflowDispatch dispatch, ExecutionRecord record)
    {
        _dispatches.Remove(dispatch);
        var status = record.Status switch
        {
            ExecutionStatus.Succeeded => Succeeded,
            ExecutionStatus.Timeout => Expired,
            ExecutionStatus.Canceled => Canceled,
            ExecutionStatus.Abandoned => Abandoned,
            _ => Failed,
        };
        var result = record.Result?.DeepClone();
        if (result is null && record.Error is { } error && status != Succeeded)
        {
            result = new JsonObject { ["error"] = error };
        }

        _conductor.UpdateTask(dispatch.TaskId, dispatch.Route, new TaskEvent(Running, null, dispatch.ItemId));
        _conductor.UpdateTask(dispatch.TaskId, dispatch.Route, new TaskEvent(status, result, dispatch.ItemId));
        if (_pausedOnRequest && IsRunning(_conductor.Status))
        {
            // An ask answered while the workflow was paused on request: it stays paused until it is resumed.
            _conductor.RequestWorkflowStatus(Pausing);
        }

        LogFinished(_logger, ExecutionId, dispatch.TaskId, record.Id, status);
    }

    /// <summary>
    /// After a restart: attaches to the children of the dispatches in flight. A child that finished is applied; one
    /// that the crash abandoned never completed and is requested again; one requested but not recorded yet is found
    /// among the run's children created since the last save (in the order they were requested), or requested.
    /// A child retried by its action's retry policy is followed to its latest attempt.
    /// </summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (_dispatches.Count == 0)
        {
            return;
        }

        var children = await _executions.ListAsync(new ExecutionQuery { ParentId = ExecutionId, Limit = 1000 }, cancellationToken).ConfigureAwait(false);
        var unrecorded = new Queue<ExecutionRecord>(children.Where(c => c.Id > _log.LastChildId && c.RetryOf is null).OrderBy(c => c.Id));
        foreach (var dispatch in _dispatches.OrderBy(d => d.Key).ToList())
        {
            if (dispatch.ChildId is null && unrecorded.Count > 0 && unrecorded.Peek().ActionRef == dispatch.Action)
            {
                dispatch.ChildId = unrecorded.Dequeue().Id;
            }

            var child = dispatch.ChildId is { } id ? await _executions.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;
            while (child is not null && children.FirstOrDefault(c => c.RetryOf == child.Id) is { } retry)
            {
                child = retry;
            }

            if (child is null || child.Status == ExecutionStatus.Abandoned)
            {
                LogRedispatched(_logger, ExecutionId, dispatch.TaskId, dispatch.ChildId ?? 0);
                dispatch.ChildId = null;
                dispatch.Delay = 0;
                await StartAsync(dispatch, cancellationToken).ConfigureAwait(false);
            }
            else if (child.Status.IsFinished())
            {
                _waiting[dispatch.Key] = Task.FromResult<ExecutionRecord?>(child);
            }
            else
            {
                _waiting[dispatch.Key] = PollAsync(child.Id);
            }
        }

        _log.LastChildId = Math.Max(_log.LastChildId, children.Count == 0 ? 0 : children.Max(c => c.Id));
        await SaveAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for a child that another live process runs.</summary>
    private async Task<ExecutionRecord?> PollAsync(long childId)
    {
        while (true)
        {
            var record = await _executions.GetAsync(childId, CancellationToken.None).ConfigureAwait(false);
            if (record is null || record.Status.IsFinished())
            {
                return record;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), _time).ConfigureAwait(false);
        }
    }

    /// <summary>Cancels the run: running children are canceled and awaited, nothing new starts.</summary>
    private async Task CancelAsync()
    {
        try
        {
            _conductor.RequestWorkflowStatus(Canceling);
        }
        catch (InvalidOperationException)
        {
            // Already completed or canceled.
        }

        foreach (var dispatch in _dispatches.Where(d => d.ChildId is not null).ToList())
        {
            await _executions.CancelAsync(dispatch.ChildId!.Value, $"the cancel of workflow #{ExecutionId.ToString(CultureInfo.InvariantCulture)}", CancellationToken.None).ConfigureAwait(false);
        }

        foreach (var dispatch in _dispatches.Where(d => d.ChildId is null).ToList())
        {
            _waiting.Remove(dispatch.Key);
            _dispatches.Remove(dispatch);
            _conductor.UpdateTask(dispatch.TaskId, dispatch.Route, new TaskEvent(Canceled, null, dispatch.ItemId));
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
        while (_waiting.Count > 0 && !limit.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAny(_waiting.Values).WaitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await ApplyFinishedAsync().ConfigureAwait(false);
        }

        if (!IsCompleted(_conductor.Status))
        {
            try
            {
                _conductor.RequestWorkflowStatus(Canceled);
            }
            catch (InvalidOperationException)
            {
                // Children still canceling past the limit: the workflow stays canceling in the engine's eyes.
            }
        }
    }

    private async Task SaveAsync(CancellationToken cancellationToken, bool finished = false)
    {
        if (!await _writer.SaveAsync(_conductor.State, _log, finished, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"Workflow execution {ExecutionId} was saved by someone else meanwhile; this copy stops.");
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Workflow {ExecutionId}: task {TaskId} started execution {ChildId}")]
    private static partial void LogStarted(ILogger logger, long executionId, string taskId, long childId);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Workflow {ExecutionId}: task {TaskId} execution {ChildId} ended {Status}")]
    private static partial void LogFinished(ILogger logger, long executionId, string taskId, long childId, string status);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Workflow {ExecutionId}: task {TaskId} was interrupted (execution {ChildId}) and is started again")]
    private static partial void LogRedispatched(ILogger logger, long executionId, string taskId, long childId);
}
