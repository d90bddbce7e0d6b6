using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Rules;

/// <summary>The rule engine's knobs.</summary>
public sealed class RuleEngineOptions
{
    /// <summary>How often the engine looks for pending events even when no one woke it (events stored by another process).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many pending events are read from the store at a time; bounds the engine's memory under a burst.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>How long processed events and their enforcements are kept. Zero keeps them forever (the database grows without bound).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// Applies the loaded rules to stored events, oldest first, as StackStorm's rules engine: for each pending event,
/// every enabled rule of its trigger type (and the same trigger parameters) whose criteria hold gets one
/// enforcement record and its action started under the rule's identity; then the event is marked processed.
/// After a crash, events still pending are evaluated again; the store's one-enforcement-per-(rule, event) keeps a
/// rule that already fired from firing twice, and an enforcement caught mid-start is marked failed (the action may
/// or may not have started), never retried blindly.
/// </summary>
public sealed partial class RuleEngine(
    IEventStore store,
    EventPublisher publisher,
    PackCatalog packs,
    RuleEvaluator evaluator,
    IRuleActionStarter starter,
    IKeyValueViewSource keyValues,
    TimeProvider time,
    IOptions<RuleEngineOptions> options,
    ILogger<RuleEngine> logger) : BackgroundService
{
    private readonly RuleEngineOptions _options = options.Value;
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    /// <summary>Events evaluated since start (for status and benchmarks).</summary>
    public long Processed => Interlocked.Read(ref _processed);

    private long _processed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DrainAsync(stoppingToken).ConfigureAwait(false);
                    await PurgeAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (StoreUnavailableException ex)
                {
                    LogStoreUnavailable(logger, ex.Message);
                }
                catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
                {
                    // Whatever else went wrong, the engine goes on at the next poll: events keep arriving, and a
                    // stopped engine would leave every one of them unevaluated without a word.
                    LogDrainFailed(logger, ex);
                }

                await publisher.WaitAsync(_options.PollInterval, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: pending events stay pending in the store and are evaluated at the next start.
        }
    }

    /// <summary>Marks enforcements that a crash caught mid-start as failed. Run once before the first drain.</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var count = await store.FailStartingEnforcementsAsync(
            "OpsRobot stopped while this rule's action was being started, so it may or may not have run. Check the executions before running it by hand.",
            time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            LogRecovered(logger, count);
        }

        return count;
    }

    /// <summary>Evaluates every pending event, oldest first; returns how many.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var after = 0L;
        var count = 0;
        while (true)
        {
            var batch = await store.ListPendingAsync(after, Math.Max(1, _options.BatchSize), cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return count;
            }

            // The batch's events are marked processed together, in one write after the last: a crash before it has
            // them evaluated again at the next start, and an enforcement is recorded at most once per event and rule
            // (the store refuses a second), so no rule fires twice for an event.
            var views = new Dictionary<string, KeyValueView>(StringComparer.Ordinal);
            var done = new List<long>(batch.Count);
            try
            {
                foreach (var e in batch)
                {
                    await ProcessAsync(e, views, cancellationToken).ConfigureAwait(false);
                    done.Add(e.Id);
                    after = e.Id;
                }
            }
            catch (Exception) when (done.Count > 0)
            {
                // Stopping, or the store failed: mark what was evaluated if the store still takes it (else those
                // events are evaluated again at the next start, which fires nothing twice), and pass the error on.
                await TryMarkProcessedAsync(done).ConfigureAwait(false);
                throw;
            }

            if (done.Count > 0)
            {
                await store.MarkProcessedAsync(done, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                count += done.Count;
                Interlocked.Add(ref _processed, done.Count);
            }
        }
    }

    private async Task TryMarkProcessedAsync(List<long> done)
    {
        try
        {
            await store.MarkProcessedAsync(done, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            Interlocked.Add(ref _processed, done.Count);
        }
#pragma warning disable CA1031 // Best effort on the way out; the error that stopped the batch is the one reported.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogMarkFailed(logger, ex, done.Count);
        }
    }

    private async Task ProcessAsync(EventRecord e, Dictionary<string, KeyValueView> views, CancellationToken cancellationToken)
    {
        if (e.Damage is { } damage)
        {
            // Evaluated against an empty payload, a rule could fire on what the event never said: it is passed over.
            LogDamagedEvent(logger, e.Id, damage);
            return;
        }

        var snapshot = packs.Current;
        foreach (var rule in snapshot.Rules)
        {
            if (!rule.Enabled || !TriggerMatches(rule, e))
            {
                continue;
            }

            try
            {
                await ApplyAsync(rule, e, snapshot, views, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or StoreUnavailableException or OutOfMemoryException))
            {
                // One rule's failure must not keep the others from this event, nor block the events after it.
                LogRuleFailed(logger, ex, rule.Ref, e.Id);
            }
        }

    }

    private async Task ApplyAsync(RuleDefinition rule, EventRecord e, PackLoadResult snapshot, Dictionary<string, KeyValueView> views, CancellationToken cancellationToken)
    {
        if (!views.TryGetValue(rule.Identity, out var view))
        {
            view = await keyValues.GetViewAsync(rule.Identity, cancellationToken).ConfigureAwait(false);
            views[rule.Identity] = view;
        }

        var evaluation = evaluator.Evaluate(rule, RuleEvaluator.Context(e.Payload, view.Kv));
        if (!evaluation.Matched)
        {
            LogNotMatched(logger, rule.Ref, e.Id, evaluation.Failure?.ToString() ?? string.Empty);
            return;
        }

        var action = snapshot.FindAction(rule.ActionRef);
        var enforcement = await store.TryBeginEnforcementAsync(new EnforcementRecord
        {
            Id = 0,
            RuleRef = rule.Ref,
            EventId = e.Id,
            TriggerType = e.TriggerType,
            ActionRef = rule.ActionRef,
            Status = EnforcementStatus.Starting,
            Parameters = evaluation.Parameters is null ? null : new SecretMasker(view.SecretValues).MaskParameters(evaluation.Parameters, action),
            CreatedAt = time.GetUtcNow(),
        }, cancellationToken).ConfigureAwait(false);
        if (enforcement is null)
        {
            LogAlreadyEnforced(logger, rule.Ref, e.Id);
            return;
        }

        if (evaluation.ParameterError is { } renderError)
        {
            await store.CompleteEnforcementAsync(enforcement.Id, EnforcementStatus.Failed, null, renderError, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            LogEnforcementFailed(logger, rule.Ref, e.Id, renderError);
            return;
        }

        try
        {
            // The execution masks the datastore secrets the templates could read wherever they show up in it.
            var executionId = await starter.StartAsync(rule, evaluation.Parameters!, e, view.SecretValues, cancellationToken).ConfigureAwait(false);
            await store.CompleteEnforcementAsync(enforcement.Id, EnforcementStatus.Started, executionId, null, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            LogFired(logger, rule.Ref, e.Id, rule.ActionRef, executionId);
        }
        catch (ExecutionRequestException ex)
        {
            await store.CompleteEnforcementAsync(enforcement.Id, EnforcementStatus.Failed, null, ex.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            LogEnforcementFailed(logger, rule.Ref, e.Id, ex.Message);
        }
        catch (ObjectDisposedException ex)
        {
            // The execution service is stopping and stored nothing: undo the enforcement and stop here, leaving the
            // event pending, so the rule fires at the next start instead of being recorded as failed.
            await store.DeleteStartingEnforcementAsync(enforcement.Id, CancellationToken.None).ConfigureAwait(false);
            throw new OperationCanceledException("OpsRobot is stopping; the event stays pending.", ex);
        }
    }

    /// <summary>
    /// Whether an event is for this rule's trigger: same type and, where the type has them, the same trigger
    /// parameters (a webhook's name; a timer's schedule, which the timer puts in the payload).
    /// </summary>
    public static bool TriggerMatches(RuleDefinition rule, EventRecord e)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(e);
        if (!string.Equals(rule.TriggerType, e.TriggerType, StringComparison.Ordinal))
        {
            return false;
        }

        return rule.TriggerType switch
        {
            BuiltInTriggers.Webhook => string.Equals(Text(e.Payload["url"]), Text(rule.TriggerParameters["url"]), StringComparison.Ordinal),
            BuiltInTriggers.IntervalTimer or BuiltInTriggers.CronTimer or BuiltInTriggers.DateTimer => PyValues.Equal(e.Payload["schedule"], rule.TriggerParameters),
            _ => true,
        };

        static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_options.Retention <= TimeSpan.Zero || now - _lastPurge < TimeSpan.FromHours(1))
        {
            return;
        }

        _lastPurge = now;
        var purged = await store.PurgeProcessedAsync(now - _options.Retention, 10_000, cancellationToken).ConfigureAwait(false);
        if (purged > 0)
        {
            LogPurged(logger, purged);
        }
    }

    [LoggerMessage(EventId = 1510, Level = LogLevel.Information, Message = "Rule {RuleRef} fired for event {EventId}: action {ActionRef}, execution {ExecutionId}")]
    private static partial void LogFired(ILogger logger, string ruleRef, long eventId, string actionRef, long executionId);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "Rule {RuleRef} matched event {EventId} but its action did not start: {Error}")]
    private static partial void LogEnforcementFailed(ILogger logger, string ruleRef, long eventId, string error);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Debug, Message = "Rule {RuleRef} does not match event {EventId}: {Why}")]
    private static partial void LogNotMatched(ILogger logger, string ruleRef, long eventId, string why);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Information, Message = "Rule {RuleRef} already fired for event {EventId}; not again")]
    private static partial void LogAlreadyEnforced(ILogger logger, string ruleRef, long eventId);

    [LoggerMessage(EventId = 1514, Level = LogLevel.Error, Message = "Rule {RuleRef} failed on event {EventId}")]
    private static partial void LogRuleFailed(ILogger logger, Exception exception, string ruleRef, long eventId);

    [LoggerMessage(EventId = 1515, Level = LogLevel.Warning, Message = "{Count} rule enforcement(s) were cut short by a stop; marked failed")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(EventId = 1516, Level = LogLevel.Warning, Message = "The rule engine cannot reach the store, will retry: {Message}")]
    private static partial void LogStoreUnavailable(ILogger logger, string message);

    [LoggerMessage(EventId = 1518, Level = LogLevel.Warning, Message = "Could not mark {Count} evaluated event(s) processed; they are evaluated again at the next start, and no rule fires twice for an event")]
    private static partial void LogMarkFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1519, Level = LogLevel.Warning, Message = "Event {EventId} is passed over by the rules: {Damage}")]
    private static partial void LogDamagedEvent(ILogger logger, long eventId, string damage);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Error, Message = "The rule engine failed to evaluate the pending events; it tries again at the next poll")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1517, Level = LogLevel.Information, Message = "Purged {Count} processed event(s) past their retention")]
    private static partial void LogPurged(ILogger logger, int count);
}
