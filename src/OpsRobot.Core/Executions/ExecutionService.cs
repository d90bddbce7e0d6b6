using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Storage;
using static OpsRobot.Core.Executions.ExecutionStatuses;

namespace OpsRobot.Core.Executions;

/// <summary>
/// The one place actions are run, whatever door asked: chat, API, CLI, rules and workflows all end here, so
/// parameter checks, secret masking, concurrency, timeouts, retries and the durable record are written once.
/// Every state change is stored before it is announced.
/// </summary>
public sealed partial class ExecutionService : IAsyncDisposable
{
    // Canceled before it started: the cancel came while it waited, or while it was being started.
    private static readonly IReadOnlyList<ExecutionStatus> WaitingOrCanceling = [.. Waiting, ExecutionStatus.Canceling];

    private readonly IExecutionStore _store;
    private readonly PackCatalog _packs;
    private readonly RunnerCatalog _runners;
    private readonly ExecutionEvents _events;
    private readonly TimeProvider _time;
    private readonly ExecutionOptions _options;
    private readonly ILogger<ExecutionService> _logger;
    private readonly ConcurrentDictionary<long, RunState> _active = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _actionSlots = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _globalSlots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly IExecutionGuard? _guard;

    /// <param name="store">Where executions are kept.</param>
    /// <param name="packs">The actions.</param>
    /// <param name="runners">The runners.</param>
    /// <param name="events">Where status changes and output are announced.</param>
    /// <param name="time">The clock.</param>
    /// <param name="options">Concurrency, timeouts, output limits.</param>
    /// <param name="logger">The log.</param>
    /// <param name="guard">Access control's re-check of queued executions and the audit of starts and ends; the host always wires it.</param>
    public ExecutionService(
        IExecutionStore store, PackCatalog packs, RunnerCatalog runners, ExecutionEvents events, TimeProvider time,
        IOptions<ExecutionOptions> options, ILogger<ExecutionService> logger, IExecutionGuard? guard = null)
    {
        _guard = guard;
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _packs = packs;
        _runners = runners;
        _events = events;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _globalSlots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrent));
    }

    /// <summary>This process, as recorded in <see cref="ExecutionRecord.Owner"/> (see <see cref="ProcessIdentity"/>).</summary>
    public static string ProcessOwner => ProcessIdentity.Current;

    /// <summary>Executions this process is running or waiting to run.</summary>
    public int ActiveCount => _active.Count;

    /// <summary>
    /// Checks and stores a request, then runs it in the background. Throws <see cref="ExecutionRequestException"/>
    /// when the action is unknown or disabled or the parameters do not fit; nothing is stored then.
    /// </summary>
    public async Task<ExecutionHandle> RequestAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var (action, runner) = FindRunnable(request.ActionRef);
        BoundParameters bound;
        try
        {
            bound = Bind(action, request.Parameters);
        }
        catch (ExecutionRequestException ex) when (request.SecretValues.Count > 0)
        {
            // The sentence quotes the value that does not fit, which may hold a secret: it goes to a rule's enforcement
            // record or a workflow's task result, so it is masked too (and the unmasked one is not kept as the cause).
#pragma warning disable MA0054 // The cause's message is the same sentence with the secret in clear.
            throw new ExecutionRequestException(new SecretMasker(request.SecretValues).Mask(ex.Message));
#pragma warning restore MA0054
        }

        // Every secret this execution may carry: the values of its own secret parameters and those the requester
        // handed over. Masked in whatever is stored or shown of it; kept in memory only, for as long as it runs.
        var masker = new SecretMasker(request.SecretValues.Concat(bound.SecretValues));
        var parameters = masker.Mask(bound.Masked);
        var record = await _store.CreateAsync(new ExecutionRecord
        {
            Id = 0,
            ActionRef = action.Ref,
            RunnerType = action.RunnerType,
            Parameters = parameters,
            SecretsMasked = action.Parameters.Any(d => d.Secret && bound.Values.ContainsKey(d.Name)) || !JsonNode.DeepEquals(parameters, bound.Masked),
            Status = ExecutionStatus.Requested,
            Requester = request.Requester,
            CreatedAt = _time.GetUtcNow(),
            ParentId = request.ParentId,
            Owner = ProcessOwner,
        }, cancellationToken).ConfigureAwait(false);
        LogRequested(_logger, record.Id, action.Ref, request.Requester.Door, request.Requester.UserName);
        _events.Publish(new ExecutionStatusEvent(record));

        if (request.BeforeStart is { } beforeStart)
        {
            try
            {
                await beforeStart(record, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var reason = masker.Mask(ex.Message);
                await FinishAsync(record.Id, Waiting, ExecutionStatus.Failed, new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = reason }).ConfigureAwait(false);
                throw new ExecutionRequestException($"Execution #{record.Id.ToString(CultureInfo.InvariantCulture)} could not be prepared: {reason}", ex);
            }
        }

        var outcome = new TaskCompletionSource<ExecutionRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(record, action, runner, bound, masker, outcome);
        return new ExecutionHandle(record, outcome.Task);
    }

    /// <summary>
    /// The secret values an execution this process runs carries (its secret parameters' and those its requester
    /// handed over), for the executions it requests in turn (a workflow's steps); none when it does not run here.
    /// </summary>
    public IReadOnlyList<string> SecretValuesOf(long id) => _active.TryGetValue(id, out var state) ? state.Masker.Secrets : [];

    public Task<ExecutionRecord?> GetAsync(long id, CancellationToken cancellationToken) => _store.GetAsync(id, cancellationToken);

    /// <inheritdoc cref="IExecutionStore.GetManyAsync"/>
    public Task<IReadOnlyList<ExecutionRecord>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => _store.GetManyAsync(ids, cancellationToken);

    public Task<IReadOnlyList<ExecutionRecord>> ListAsync(ExecutionQuery query, CancellationToken cancellationToken) => _store.ListAsync(query, cancellationToken);

    public Task<IReadOnlyList<OutputChunk>> ReadOutputAsync(long id, long afterSequence, int limit, CancellationToken cancellationToken) =>
        _store.ReadOutputAsync(id, afterSequence, limit, cancellationToken);

    /// <summary>
    /// Cancels an execution: one that waits is canceled at once; one that runs moves to <c>canceling</c> while its
    /// runner stops its process tree. Returns the record as it is now, or null when there is no such execution.
    /// </summary>
    public async Task<ExecutionRecord?> CancelAsync(long id, string by, CancellationToken cancellationToken)
    {
        var record = await _store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null || record.Status.IsFinished())
        {
            return record;
        }

        var reason = $"Canceled by {by}.";
        if (_active.TryGetValue(id, out var state))
        {
            state.CancelReason = reason;
            await MoveAsync(id, Cancellable, ExecutionStatus.Canceling, new ExecutionUpdate { Error = reason }, cancellationToken).ConfigureAwait(false);

            await state.Cancel.CancelAsync().ConfigureAwait(false);
        }
        else
        {
            // Not ours to stop (left over by a process that is gone): record the decision.
            await MoveAsync(id, Unfinished, ExecutionStatus.Canceled, new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = reason }, cancellationToken).ConfigureAwait(false);
        }

        LogCanceled(_logger, id, by);
        return await _store.GetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records where a workflow execution stands while it runs: <c>pausing</c>, <c>paused</c>, <c>resuming</c>, or
    /// <c>running</c> again, and tells whoever follows it. Only an execution that runs or is held by a pause moves; a
    /// canceling or finished one is left as it is. Returns whether the record changed.
    /// </summary>
    public async Task<bool> ReportWorkflowStatusAsync(long id, ExecutionStatus status, CancellationToken cancellationToken)
    {
        if (status is not ExecutionStatus.Running && !status.IsPauseState())
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Only running, pausing, paused and resuming are a workflow's to report.");
        }

        return await MoveAsync(id, Cancellable, status, new ExecutionUpdate(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Shows that an <c>ask</c> execution waits for people (<c>pending</c>, and its workflow <c>paused</c>, as StackStorm
    /// shows them), or that the wait is over (both <c>running</c> again). Each record moves only from the status this
    /// step set, so a cancel or a pause asked meanwhile is not overwritten. Returns whether the ask's record moved.
    /// </summary>
    public async Task<bool> ReportInquiryWaitAsync(long askId, long? workflowId, bool waiting, CancellationToken cancellationToken)
    {
        var (from, to) = waiting ? (ExecutionStatus.Running, ExecutionStatus.Pending) : (ExecutionStatus.Pending, ExecutionStatus.Running);
        var moved = await MoveAsync(askId, [from], to, new ExecutionUpdate(), cancellationToken).ConfigureAwait(false);

        if (workflowId is { } parent)
        {
            var (parentFrom, parentTo) = waiting ? (ExecutionStatus.Running, ExecutionStatus.Paused) : (ExecutionStatus.Paused, ExecutionStatus.Running);
            await MoveAsync(parent, [parentFrom], parentTo, new ExecutionUpdate(), cancellationToken).ConfigureAwait(false);
        }

        return moved;
    }

    /// <summary>
    /// After a crash or restart, for every execution left unfinished by a process that is gone: one that was
    /// queued (requested or scheduled, so it never started) is taken over and run now, with its requester's rights
    /// checked again and audited as any queued start; one that had started, or a queued one that cannot be started
    /// again (a workflow's step, which its workflow requests again when it resumes; an action gone from the packs;
    /// secret parameters, which are never stored in clear), is marked <c>abandoned</c> with the reason.
    /// Returns both so the rooms that asked can be told. A short-lived process (the shell chat) passes
    /// <c>takeOverQueued</c> false: it would only start the work to abandon it on exit, so it leaves
    /// queued executions for the next server to run.
    /// </summary>
    public Task<ExecutionRecovery> RecoverAsync(CancellationToken cancellationToken) => RecoverAsync(takeOverQueued: true, cancellationToken);

    /// <inheritdoc cref="RecoverAsync(CancellationToken)"/>
    public Task<ExecutionRecovery> RecoverAsync(bool takeOverQueued, CancellationToken cancellationToken) =>
        RecoverAsync(takeOverQueued, resumedElsewhere: null, cancellationToken);

    /// <inheritdoc cref="RecoverAsync(CancellationToken)"/>
    /// <param name="takeOverQueued">False in a short-lived process: queued executions are left for the next server.</param>
    /// <param name="resumedElsewhere">
    /// True for an execution that another part resumes from its own stored state (a workflow whose run is stored):
    /// it is left as it is, neither abandoned nor announced, for that part to take over.
    /// </param>
    /// <param name="cancellationToken">Stops the recovery.</param>
    public async Task<ExecutionRecovery> RecoverAsync(bool takeOverQueued, Func<ExecutionRecord, CancellationToken, Task<bool>>? resumedElsewhere, CancellationToken cancellationToken)
    {
        var abandoned = new List<ExecutionRecord>();
        var resumed = new List<ExecutionHandle>();
        foreach (var record in await _store.ListUnfinishedAsync(cancellationToken).ConfigureAwait(false))
        {
            if (record.Owner == ProcessOwner || ProcessIdentity.IsAlive(record.Owner, record.CreatedAt, _time.GetUtcNow()))
            {
                continue;
            }

            if (record.Damage is null && resumedElsewhere is not null && await resumedElsewhere(record, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            string error;
            if (record.Damage is { } damage)
            {
                // Never started again: what it was asked to do, or by whom, is not known for sure.
                LogDamaged(_logger, record.Id, damage);
                error = $"OpsRobot stopped while this execution was {record.Status.ToWire()}, and its stored record cannot be read ({damage}), so it was not started again. Check what it did, then run it again if needed.";
            }
            else if (record.Status.IsWaiting())
            {
                if (!takeOverQueued)
                {
                    continue;
                }

                var plan = PlanResume(record, out var why);
                if (plan is { } p)
                {
                    // Compare-and-set on the owner: of two processes recovering at once, one takes it and runs it.
                    if (await _store.ClaimAsync(record.Id, record.Owner, ProcessOwner, Waiting, cancellationToken).ConfigureAwait(false))
                    {
                        var claimed = record with { Owner = ProcessOwner };
                        var outcome = new TaskCompletionSource<ExecutionRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
                        Start(claimed, p.Action, p.Runner, p.Bound, new SecretMasker(p.Bound.SecretValues), outcome, recheck: true);
                        resumed.Add(new ExecutionHandle(claimed, outcome.Task));
                        LogResumed(_logger, record.Id, record.ActionRef);
                    }

                    continue;
                }

                error = $"OpsRobot stopped while this execution was queued, and it cannot be started again: {why} Run it again if it is still needed.";
            }
            else
            {
                error = $"OpsRobot stopped while this execution was {record.Status.ToWire()}, so it did not finish. Check what it did, then run it again if needed.";
            }

            if (await _store.TransitionAndReadAsync(record.Id, Unfinished, ExecutionStatus.Abandoned,
                    new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = error }, cancellationToken).ConfigureAwait(false) is { } updated)
            {
                abandoned.Add(updated);
                _events.Publish(new ExecutionStatusEvent(updated));
                await AuditFinishedAsync(updated).ConfigureAwait(false);
            }
        }

        if (abandoned.Count > 0)
        {
            LogAbandoned(_logger, abandoned.Count);
        }

        return new ExecutionRecovery(abandoned, resumed);
    }

    /// <summary>What a queued execution left by a gone process needs to start again, or null and why it cannot.</summary>
    private (ActionDefinition Action, IRunner Runner, BoundParameters Bound)? PlanResume(ExecutionRecord record, out string why)
    {
        if (record.ParentId is { } parent)
        {
            why = string.Create(CultureInfo.InvariantCulture, $"it is a step of workflow #{parent}, which requests its steps again when it resumes.");
            return null;
        }

        if (_packs.Current.FindAction(record.ActionRef) is null)
        {
            // Not the request's "Did you mean …?": this sentence is posted to the requester's room, and its members
            // may not be allowed to see the actions it would name.
            why = $"There is no action {record.ActionRef} any more.";
            return null;
        }

        ActionDefinition action;
        IRunner runner;
        try
        {
            (action, runner) = FindRunnable(record.ActionRef);
        }
        catch (ExecutionRequestException ex)
        {
            why = ex.Message;
            return null;
        }

        if (record.SecretsMasked || action.Parameters.Any(d => d.Secret && record.Parameters.ContainsKey(d.Name)))
        {
            why = "it has secret parameters, or secret values in its parameters, which are never stored in clear.";
            return null;
        }

        // The record holds the parameters as bound: defaults filled in and fixed (immutable) ones included, which
        // binding refuses as input; bind what the requester could have given, against the action as it is now.
        var input = new JsonObject();
        foreach (var (name, value) in record.Parameters)
        {
            if (action.Parameters.FirstOrDefault(d => d.Name == name) is not { Immutable: true })
            {
                input[name] = value?.DeepClone();
            }
        }

        try
        {
            why = string.Empty;
            return (action, runner, Bind(action, input));
        }
        catch (ExecutionRequestException ex)
        {
            why = $"its parameters no longer fit the action: {ex.Message}";
            return null;
        }
    }

    /// <summary>The action a request names and the runner that runs it, as a request and a resumed one both need them.</summary>
    /// <exception cref="ExecutionRequestException">The action is unknown or disabled, or its runner is missing; the message says which.</exception>
    private (ActionDefinition Action, IRunner Runner) FindRunnable(string actionRef)
    {
        var action = _packs.Current.FindAction(actionRef) ?? throw new ExecutionRequestException(UnknownAction(actionRef));
        if (!action.Enabled)
        {
            throw new ExecutionRequestException($"Action {action.Ref} is disabled in its pack.");
        }

        var runner = _runners.Find(action.RunnerType)
            ?? throw new ExecutionRequestException($"Action {action.Ref} needs runner '{action.RunnerType}', which this OpsRobot does not have.");
        return (action, runner);
    }

    /// <exception cref="ExecutionRequestException">The parameters do not fit the action; the message says how.</exception>
    private static BoundParameters Bind(ActionDefinition action, JsonObject? parameters)
    {
        try
        {
            return ParameterBinder.Bind(action, parameters);
        }
        catch (ParameterException ex)
        {
            throw new ExecutionRequestException(ex.Message, ex);
        }
    }

    /// <summary>Stops taking work, gives running executions <see cref="ExecutionOptions.StopGrace"/> to end, then abandons the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // First the grace period for runs to end by themselves; then stop the rest (they end as abandoned).
        await WaitForActiveAsync(_options.StopGrace).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await WaitForActiveAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task WaitForActiveAsync(TimeSpan limit)
    {
        var running = _active.Values.Select(s => s.Task).OfType<Task>().ToArray();
        try
        {
            await Task.WhenAll(running).WaitAsync(limit, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timeout, or a run that failed: each run records its own outcome; stopping only waits.
        }
    }

    private void Start(ExecutionRecord record, ActionDefinition action, IRunner runner, BoundParameters bound, SecretMasker masker, TaskCompletionSource<ExecutionRecord> outcome, bool recheck = false)
    {
        var state = new RunState(record, action, runner, bound, masker, outcome, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            Recheck = recheck,
        };
        _active[record.Id] = state;
        state.Task = Task.Run(() => RunAsync(state));
    }

    private async Task RunAsync(RunState s)
    {
        var id = s.Execution.Id;
        ExecutionRecord? final = null;
        SemaphoreSlim? actionSlot = null;
        var holdsGlobal = false;
        var waited = s.Recheck;
        try
        {
            var token = s.Cancel.Token;
            if (s.RetryDelay > TimeSpan.Zero)
            {
                waited = true;
                await ScheduleAsync(id).ConfigureAwait(false);
                await Task.Delay(s.RetryDelay, _time, token).ConfigureAwait(false);
            }

            if (s.Action.Policies.ConcurrencyLimit is { } limit)
            {
                var slots = _actionSlots.GetOrAdd(string.Create(CultureInfo.InvariantCulture, $"{s.Action.Ref}#{limit}"), _ => new SemaphoreSlim(limit, limit));
                if (!slots.Wait(0, CancellationToken.None))
                {
                    if (s.Action.Policies.ConcurrencyMode == ConcurrencyMode.Refuse)
                    {
                        final = await FinishAsync(id, Waiting, ExecutionStatus.Canceled, new ExecutionUpdate
                        {
                            EndedAt = _time.GetUtcNow(),
                            Error = $"Refused: {s.Action.Ref} already runs {limit} time(s) at once, its limit.",
                        }).ConfigureAwait(false);
                        return;
                    }

                    waited = true;
                    await ScheduleAsync(id).ConfigureAwait(false);
                    await slots.WaitAsync(token).ConfigureAwait(false);
                }

                actionSlot = slots;
            }

            if (!_globalSlots.Wait(0, CancellationToken.None))
            {
                waited = true;
                await ScheduleAsync(id).ConfigureAwait(false);
                await _globalSlots.WaitAsync(token).ConfigureAwait(false);
            }

            holdsGlobal = true;

            if (waited && _guard is not null && await _guard.RecheckAsync(s.Execution, s.Action, token).ConfigureAwait(false) is { } refusal)
            {
                final = await FinishAsync(id, Waiting, ExecutionStatus.Canceled, new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = refusal }).ConfigureAwait(false);
                return;
            }

            var running = await _store.TransitionAndReadAsync(id, Waiting, ExecutionStatus.Running, new ExecutionUpdate { StartedAt = _time.GetUtcNow() }, CancellationToken.None).ConfigureAwait(false);
            if (running is null)
            {
                final = await _store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
                return;
            }

            _events.Publish(new ExecutionStatusEvent(running));
            if (_guard is not null)
            {
                await _guard.StartedAsync(running, CancellationToken.None).ConfigureAwait(false);
            }

            final = await RunRunnerAsync(s).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (s.Cancel.IsCancellationRequested)
        {
            final = await FinishAsync(id, WaitingOrCanceling,
                _stopping.IsCancellationRequested ? ExecutionStatus.Abandoned : ExecutionStatus.Canceled,
                new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = _stopping.IsCancellationRequested ? "OpsRobot stopped before this execution started." : s.CancelReason }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRunFailed(_logger, ex, id);
            final = await TryFinishAfterErrorAsync(id, ex).ConfigureAwait(false);
        }
        finally
        {
            if (holdsGlobal)
            {
                _globalSlots.Release();
            }

            actionSlot?.Release();
            _active.TryRemove(id, out _);
            s.Cancel.Dispose();
            await CompleteOrRetryAsync(s, final).ConfigureAwait(false);
        }
    }

    private async Task<ExecutionRecord?> RunRunnerAsync(RunState s)
    {
        var id = s.Execution.Id;
        var limit = EffectiveTimeout(s);
        using var timeout = new CancellationTokenSource(limit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(s.Cancel.Token, timeout.Token);
        var sink = new OutputSink(id, _store, _events, _time, _options, _logger, s.Masker);
        RunnerResult result;
        try
        {
            result = await s.Runner.RunAsync(
                new RunnerContext(id.ToString(CultureInfo.InvariantCulture), s.Action, s.Bound.Values, sink) { Requester = s.Execution.Requester }, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            result = new RunnerResult(RunnerOutcome.Canceled, null, null, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRunnerThrew(_logger, ex, id, s.Action.RunnerType);
            result = new RunnerResult(RunnerOutcome.Failed, null, null, $"The {s.Action.RunnerType} runner failed: {ex.Message}");
        }
        finally
        {
            await sink.DisposeAsync().ConfigureAwait(false);
        }

        // A runner that enforces the same limit itself may report it as a failure a moment before the engine's own
        // timer fires; either way the run ran out of time.
        if (result.Outcome == RunnerOutcome.Failed && timeout.IsCancellationRequested && !s.Cancel.IsCancellationRequested)
        {
            result = result with { Outcome = RunnerOutcome.Canceled };
        }

        var (status, error) = result.Outcome switch
        {
            RunnerOutcome.Succeeded => (ExecutionStatus.Succeeded, null),
            RunnerOutcome.Failed => (ExecutionStatus.Failed, result.Error ?? (result.ExitCode is { } code ? $"Exited with code {code}." : "Failed.")),
            _ when _stopping.IsCancellationRequested => (ExecutionStatus.Abandoned, "OpsRobot stopped while this execution was running; its process tree was killed."),
            _ when s.Cancel.IsCancellationRequested => (ExecutionStatus.Canceled, s.CancelReason ?? "Canceled."),
            _ => (ExecutionStatus.Timeout, string.Create(CultureInfo.InvariantCulture, $"Timed out after {FormatSpan(limit)}; its process tree was killed.")),
        };
        if (sink.Truncated)
        {
            error = (error is null ? string.Empty : error + " ") + string.Create(CultureInfo.InvariantCulture, $"Output beyond {_options.MaxStoredOutputChars:N0} characters was not stored.");
        }

        return await FinishAsync(id, Active, status, new ExecutionUpdate
        {
            EndedAt = _time.GetUtcNow(),
            Result = s.Masker.IsEmpty ? result.Result : s.Masker.Mask(result.Result),
            ExitCode = result.ExitCode,
            Error = error is null ? null : s.Masker.Mask(error),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The run's time limit: a <c>timeout</c> parameter in seconds when the action has one (StackStorm's local
    /// runners declare it, and callers may set it), else the action's own <c>timeout</c>.
    /// </summary>
    private static TimeSpan EffectiveTimeout(RunState s)
    {
        if (!s.Bound.Values.TryGetValue("timeout", out var value) || value is not System.Text.Json.Nodes.JsonValue v)
        {
            return s.Action.Timeout;
        }

        double seconds = v.TryGetValue<long>(out var whole) ? whole : v.TryGetValue<double>(out var fraction) ? fraction : 0;
        return seconds > 0 && seconds <= 365 * 24 * 3600 ? TimeSpan.FromSeconds(seconds) : s.Action.Timeout;
    }

    private async Task CompleteOrRetryAsync(RunState s, ExecutionRecord? final)
    {
        if (final is null)
        {
            s.Outcome.TrySetException(new InvalidOperationException($"Execution {s.Execution.Id} ended without a final record; see the server log."));
            return;
        }

        await AuditFinishedAsync(final).ConfigureAwait(false);

        var policy = s.Action.Policies;
        var retry = !_stopping.IsCancellationRequested && final.Attempt <= policy.RetryCount
            && ((final.Status == ExecutionStatus.Failed && policy.RetryOnFailure) || (final.Status == ExecutionStatus.Timeout && policy.RetryOnTimeout));
        if (!retry)
        {
            s.Outcome.TrySetResult(final);
            return;
        }

        try
        {
            var next = await _store.CreateAsync(final with
            {
                Id = 0,
                Status = ExecutionStatus.Requested,
                Result = null,
                ExitCode = null,
                Error = null,
                CreatedAt = _time.GetUtcNow(),
                StartedAt = null,
                EndedAt = null,
                RetryOf = final.Id,
                Attempt = final.Attempt + 1,
                Owner = ProcessOwner,
            }, CancellationToken.None).ConfigureAwait(false);
            LogRetrying(_logger, final.Id, next.Id, next.Attempt, policy.RetryDelay);
            _events.Publish(new ExecutionStatusEvent(next));
            var state = new RunState(next, s.Action, s.Runner, s.Bound, s.Masker, s.Outcome, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                RetryDelay = policy.RetryDelay,
            };
            _active[next.Id] = state;
            state.Task = Task.Run(() => RunAsync(state));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRunFailed(_logger, ex, final.Id);
            s.Outcome.TrySetResult(final);
        }
    }

    private async Task AuditFinishedAsync(ExecutionRecord final)
    {
        if (_guard is null)
        {
            return;
        }

        try
        {
            await _guard.FinishedAsync(final, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The execution's own record holds the outcome; a failing audit store must not hide it from the caller.
            LogRunFailed(_logger, ex, final.Id);
        }
    }

    private async Task ScheduleAsync(long id)
    {
        await MoveAsync(id, [ExecutionStatus.Requested], ExecutionStatus.Scheduled, new ExecutionUpdate(), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<ExecutionRecord?> FinishAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus to, ExecutionUpdate update)
    {
        // When it did not move (a cancel or another node got there first), the record as that left it is the outcome.
        var record = await _store.TransitionAndReadAsync(id, from, to, update, CancellationToken.None).ConfigureAwait(false)
            ?? await _store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (record is not null)
        {
            LogFinished(_logger, id, record.ActionRef, record.Status.ToWire());
            _events.Publish(new ExecutionStatusEvent(record));
        }

        return record;
    }

    private async Task<ExecutionRecord?> TryFinishAfterErrorAsync(long id, Exception ex)
    {
        try
        {
            var reason = ex is StoreUnavailableException ? ex.Message : $"OpsRobot failed while running it: {ex.GetType().Name}. See the server log.";
            return await FinishAsync(id, Unfinished, ExecutionStatus.Failed, new ExecutionUpdate { EndedAt = _time.GetUtcNow(), Error = reason }).ConfigureAwait(false);
        }
        catch (Exception inner) when (inner is not OutOfMemoryException)
        {
            // The store itself is failing; recovery at the next start marks the execution abandoned.
            LogRunFailed(_logger, inner, id);
            return null;
        }
    }

    /// <summary>A conditional transition; when it moved the record, the record as it left it is announced.</summary>
    private async Task<bool> MoveAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus to, ExecutionUpdate update, CancellationToken cancellationToken)
    {
        if (await _store.TransitionAndReadAsync(id, from, to, update, cancellationToken).ConfigureAwait(false) is not { } moved)
        {
            return false;
        }

        _events.Publish(new ExecutionStatusEvent(moved));
        return true;
    }

    private string UnknownAction(string actionRef)
    {
        var close = _packs.Current.Actions.Keys
            .Select(k => (Ref: k, Distance: Commands.Similarity.Distance(k, actionRef)))
            .Where(x => x.Distance <= 3)
            .OrderBy(x => x.Distance)
            .Take(3)
            .Select(x => x.Ref)
            .ToList();
        return close.Count == 0
            ? $"There is no action {actionRef}."
            : $"There is no action {actionRef}. Did you mean {string.Join(", ", close)}?";
    }

    internal static string FormatSpan(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h {span.Minutes}m")
        : span.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m {span.Seconds}s")
            : span.TotalSeconds >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#}s")
                : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, span.TotalMilliseconds):0} ms");

    private sealed class RunState(
        ExecutionRecord execution, ActionDefinition action, IRunner runner, BoundParameters bound, SecretMasker masker,
        TaskCompletionSource<ExecutionRecord> outcome, CancellationTokenSource cancel)
    {
        public ExecutionRecord Execution { get; } = execution;

        public ActionDefinition Action { get; } = action;

        public IRunner Runner { get; } = runner;

        public BoundParameters Bound { get; } = bound;

        /// <summary>The secrets masked in everything stored or shown of the run: its output, result and error.</summary>
        public SecretMasker Masker { get; } = masker;

        public TaskCompletionSource<ExecutionRecord> Outcome { get; } = outcome;

        public CancellationTokenSource Cancel { get; } = cancel;

        public TimeSpan RetryDelay { get; init; }

        /// <summary>Authorize again before starting even without waiting here (taken over from a gone process).</summary>
        public bool Recheck { get; init; }

        public string? CancelReason { get; set; }

        public Task? Task { get; set; }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Execution {ExecutionId} of {ActionRef} requested through {Door} by {UserName}")]
    private static partial void LogRequested(ILogger logger, long executionId, string actionRef, ExecutionDoor door, string userName);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Execution {ExecutionId} of {ActionRef} finished: {Status}")]
    private static partial void LogFinished(ILogger logger, long executionId, string actionRef, string status);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Execution {ExecutionId} cancel asked by {By}")]
    private static partial void LogCanceled(ILogger logger, long executionId, string by);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Marked {Count} execution(s) abandoned: OpsRobot stopped while they ran")]
    private static partial void LogAbandoned(ILogger logger, int count);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "Execution {ExecutionId} of {ActionRef} was queued by a process that is gone and never started; running it now")]
    private static partial void LogResumed(ILogger logger, long executionId, string actionRef);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Warning, Message = "Execution {ExecutionId} was left unfinished and its stored record cannot be read ({Damage}); marking it abandoned, not running it again")]
    private static partial void LogDamaged(ILogger logger, long executionId, string damage);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Execution {ExecutionId} will be retried as {RetryId} (attempt {Attempt}) after {Delay}")]
    private static partial void LogRetrying(ILogger logger, long executionId, long retryId, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "Execution {ExecutionId} failed inside OpsRobot")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, long executionId);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Error, Message = "Runner {Runner} threw while running execution {ExecutionId}")]
    private static partial void LogRunnerThrew(ILogger logger, Exception exception, long executionId, string runner);
}
