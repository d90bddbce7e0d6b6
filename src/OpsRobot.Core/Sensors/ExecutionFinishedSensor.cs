using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Sensors;

/// <summary>
/// Turns every execution that reaches a final status into a <c>core.execution_finished</c> event (StackStorm's
/// <c>core.st2.generic.actiontrigger</c>), with its parameters as recorded (secrets already masked).
/// </summary>
public sealed partial class ExecutionFinishedSensor(ExecutionEvents executions, EventPublisher events, ILogger<ExecutionFinishedSensor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using var subscription = executions.SubscribeAll();
            try
            {
                await foreach (var e in subscription.Events.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    if (e is ExecutionStatusEvent { Execution: { } x } && x.Status.IsFinished())
                    {
                        await PublishAsync(x, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (System.Threading.Channels.ChannelClosedException ex)
            {
                // Fell behind a burst of status changes: the feed was cut. Subscribe again; finishes in the gap are lost.
                LogFellBehind(logger, ex.Message);
            }
        }
    }

    /// <summary>The event for one finished execution.</summary>
    public static JsonObject Payload(ExecutionRecord x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var payload = new JsonObject
        {
            ["execution_id"] = x.Id,
            ["action_ref"] = x.ActionRef,
            ["status"] = x.Status.ToWire(),
            ["user"] = x.Requester.UserName,
            ["door"] = x.Requester.Door.ToString().ToLowerInvariant(),
            ["parameters"] = x.Parameters.DeepClone(),
            ["result"] = x.Result?.DeepClone(),
        };
        if (x.Error is not null)
        {
            payload["error"] = x.Error;
        }

        // A large result (a long command output) would make the event too big to store: keep the event, drop the
        // result, and say so; rules that need it read the execution.
        if (payload.ToJsonString().Length > EventPublisher.MaxPayloadChars / 2)
        {
            payload["result"] = null;
            payload["result_truncated"] = true;
        }

        return payload;
    }

    private async Task PublishAsync(ExecutionRecord x, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishAsync(BuiltInTriggers.ExecutionFinished, Payload(x), $"execution:{x.Id}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or EventRejectedException)
        {
            LogPublishFailed(logger, x.Id, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1540, Level = LogLevel.Warning, Message = "The execution-finished sensor fell behind and resubscribed: {Reason}")]
    private static partial void LogFellBehind(ILogger logger, string reason);

    [LoggerMessage(EventId = 1541, Level = LogLevel.Warning, Message = "Execution {ExecutionId} finished but its event was not stored: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, long executionId, string reason);
}
