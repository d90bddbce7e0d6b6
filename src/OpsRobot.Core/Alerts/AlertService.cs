using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Alerts;

/// <summary>
/// Keeps the board current and the rooms told: reads new <c>core.alert</c> events from the store (its own durable
/// cursor, so none is missed or applied twice, whatever the rule engine does with them), applies them to the board,
/// settles flapping alerts and posts the notices. One loop, so the board has one writer.
/// </summary>
public sealed partial class AlertService(AlertBoard board, AlertPoster poster, TimeProvider time, IOptions<AlertOptions> options, ILogger<AlertService> logger) : BackgroundService
{
    private readonly AlertOptions _options = options.Value;
    private long _applied;
    private DateTimeOffset _lastSettle = DateTimeOffset.MinValue;
    private bool _recovered;

    /// <summary>Events applied to the board since start.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Messages posted to rooms since start.</summary>
    public long Posted => poster.Posted;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var problem in AlertRouter.Check(_options))
        {
            LogConfigProblem(logger, problem);
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (StoreUnavailableException ex)
                {
                    LogStoreUnavailable(logger, ex.Message);
                }
                catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
                {
                    // The board goes on at the next poll: a stopped board would leave every later alert unposted.
                    LogTurnFailed(logger, ex);
                }

                await Task.Delay(_options.PollInterval, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: events not yet applied stay after the cursor and are applied at the next start.
        }
    }

    /// <summary>
    /// One turn: drain the new events onto the board, settle, post what is due. Returns the events applied. The first
    /// turn first takes back the notices stored and not yet told (OpsRobot stopped or crashed while they waited).
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!_recovered)
        {
            try
            {
                var waiting = await board.PendingNoticesAsync(cancellationToken).ConfigureAwait(false);
                poster.Add(waiting);
                if (waiting.Count > 0)
                {
                    LogNoticesRecovered(logger, waiting.Count);
                }
            }
            catch (Exception ex) when (ex is not (StoreUnavailableException or OperationCanceledException or OutOfMemoryException))
            {
                // The stored notices cannot be taken back (they stay stored); the board must go on regardless.
                LogRecoveryFailed(logger, ex);
            }

            _recovered = true;
        }

        var total = 0;
        while (true)
        {
            var (read, notices) = await board.ApplyNextAsync(cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
            Interlocked.Add(ref _applied, read);
            poster.Add(notices);
        }

        var now = time.GetUtcNow();
        if (now - _lastSettle >= TimeSpan.FromSeconds(5))
        {
            _lastSettle = now;
            poster.Add(await board.SettleAsync(cancellationToken).ConfigureAwait(false));
        }

        await poster.FlushAsync(force: false, cancellationToken).ConfigureAwait(false);
        return total;
    }

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "Alerts: the notices stored before the last stop could not be read back; the board goes on without them")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Alerts: {Count} notices stored before the last stop had not reached all their rooms; they are sent now to the rooms that have not had them")]
    private static partial void LogNoticesRecovered(ILogger logger, int count);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Alerts configuration: {Problem}")]
    private static partial void LogConfigProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Alerts: a turn of the board failed; it tries again at the next poll")]
    private static partial void LogTurnFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Alerts: the store is unavailable ({Reason}); retrying")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);
}
