using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Sensors;

/// <summary>
/// Fires the timers the loaded rules ask for (interval, cron in a time zone, one-off date), one timer per distinct
/// trigger type and parameters however many rules share it, as StackStorm's timers. Each firing is an event whose
/// payload carries <c>executed_at</c> and the <c>schedule</c> (the trigger parameters), which is how the engine
/// matches it to its rules. Firings missed while OpsRobot was down are not replayed: a timer resumes at its next
/// time, and a date already past when its rule loads never fires.
/// </summary>
public sealed partial class TimerSensor(PackCatalog packs, EventPublisher events, TimeProvider time, ILogger<TimerSensor> logger) : BackgroundService
{
    /// <summary>The longest sleep between looks, so rules loaded by a pack reload get their timers soon.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, TimerState> _timers = new(StringComparer.Ordinal);
    private PackLoadResult? _seen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var next = await FireDueAsync(stoppingToken).ConfigureAwait(false);
                var now = time.GetUtcNow();
                var sleep = next is { } at ? at - now : MaxSleep;
                sleep = sleep < TimeSpan.Zero ? TimeSpan.Zero : sleep > MaxSleep ? MaxSleep : sleep;
                await Task.Delay(sleep, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>The timers now registered, by key (for status and tests).</summary>
    public IReadOnlyCollection<string> Timers => _timers.Keys;

    /// <summary>
    /// Brings the timers in line with the loaded rules, publishes an event for every timer that is due, and returns
    /// when the next one is due (null when there is none).
    /// </summary>
    public async Task<DateTimeOffset?> FireDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Refresh(now);
        DateTimeOffset? earliest = null;
        foreach (var (key, state) in _timers)
        {
            while (state.Next is { } due && due <= now)
            {
                try
                {
                    await events.PublishAsync(state.TriggerType, new JsonObject
                    {
                        ["executed_at"] = due.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                        ["schedule"] = state.Parameters.DeepClone(),
                    }, "timer:" + key, cancellationToken).ConfigureAwait(false);
                }
                catch (StoreUnavailableException ex)
                {
                    // Not stored, so not fired: try again at the next look rather than skip it.
                    LogFireFailed(logger, key, ex.Message);
                    return now + TimeSpan.FromSeconds(1);
                }

                // A timer that fell behind (a pause, a slow store) fires once, then resumes on its schedule.
                state.Next = state.Schedule.NextAfter(due > now ? due : now);
            }

            if (state.Next is { } n && (earliest is null || n < earliest))
            {
                earliest = n;
            }
        }

        return earliest;
    }

    private void Refresh(DateTimeOffset now)
    {
        var current = packs.Current;
        if (ReferenceEquals(current, _seen))
        {
            return;
        }

        _seen = current;
        var wanted = new Dictionary<string, (string Type, JsonObject Parameters)>(StringComparer.Ordinal);
        foreach (var rule in current.Rules.Where(r => r.Enabled && TimerSchedules.IsTimer(r.TriggerType)))
        {
            wanted[rule.TriggerType + " " + rule.TriggerParameters.ToJsonString()] = (rule.TriggerType, rule.TriggerParameters);
        }

        foreach (var gone in _timers.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
        {
            _timers.Remove(gone);
        }

        foreach (var (key, (type, parameters)) in wanted)
        {
            if (_timers.ContainsKey(key))
            {
                continue; // Unchanged by the reload: keep its rhythm.
            }

            if (TimerSchedules.TryCreate(type, parameters, now, out var error) is not { } schedule)
            {
                LogBadTimer(logger, key, error ?? "invalid");
                continue;
            }

            _timers[key] = new TimerState(type, (JsonObject)parameters.DeepClone(), schedule) { Next = schedule.NextAfter(now) };
        }
    }

    private sealed class TimerState(string triggerType, JsonObject parameters, ITimerSchedule schedule)
    {
        public string TriggerType { get; } = triggerType;

        public JsonObject Parameters { get; } = parameters;

        public ITimerSchedule Schedule { get; } = schedule;

        public DateTimeOffset? Next { get; set; }
    }

    [LoggerMessage(EventId = 1530, Level = LogLevel.Warning, Message = "Timer {Timer} could not fire, will retry: {Reason}")]
    private static partial void LogFireFailed(ILogger logger, string timer, string reason);

    [LoggerMessage(EventId = 1531, Level = LogLevel.Error, Message = "Timer {Timer} is not valid and does not run: {Reason}")]
    private static partial void LogBadTimer(ILogger logger, string timer, string reason);
}
