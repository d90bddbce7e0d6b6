using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace OpsRobot.Core.Events;

/// <summary>
/// The one door for events: every sensor (webhooks, timers, chat, executions, the datastore, pack sensors) hands its
/// events here. The event is checked against its trigger's payload shape, stored, and only then announced to the
/// rule engine: once <see cref="PublishAsync"/> returns, the event is durable and will be evaluated, even if the
/// process dies the next instant.
/// </summary>
public sealed partial class EventPublisher(IEventStore store, TimeProvider time, ILogger<EventPublisher> logger)
{
    /// <summary>The largest payload accepted, as JSON text.</summary>
    public const int MaxPayloadChars = 1024 * 1024;

    // One pending wake at most: many events published before the engine looks count as one, since it reads every
    // pending event from the store when it does.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Checks, stores and announces an event; returns it as stored.</summary>
    /// <exception cref="EventRejectedException">The payload does not fit the trigger, or is too large.</exception>
    public async Task<EventRecord> PublishAsync(string triggerType, JsonObject payload, string source, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(triggerType);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(source);
        var type = BuiltInTriggers.Find(triggerType);
        if (type is not null)
        {
            var problems = TriggerType.Check(type.Payload, payload, "payload field");
            if (problems.Count > 0)
            {
                throw new EventRejectedException($"The {type.Ref} event does not fit its trigger: {string.Join("; ", problems)}.");
            }
        }
        else if (!triggerType.Contains('.', StringComparison.Ordinal))
        {
            throw new EventRejectedException($"'{triggerType}' is not a trigger type: use pack.trigger.");
        }

        var text = payload.ToJsonString();
        if (text.Length > MaxPayloadChars)
        {
            throw new EventRejectedException($"The event's payload is {text.Length:N0} characters; the limit is {MaxPayloadChars:N0}.");
        }

        var stored = await store.AppendAsync(new EventRecord
        {
            Id = 0,
            TriggerType = type?.Ref ?? triggerType,
            Payload = (JsonObject)JsonNode.Parse(text)!,
            Source = source,
            ReceivedAt = time.GetUtcNow(),
        }, cancellationToken).ConfigureAwait(false);
        LogStored(logger, stored.Id, stored.TriggerType, source);
        Wake();
        return stored;
    }

    /// <summary>Wakes the rule engine (many wakes before it looks count as one: it reads every pending event from the store).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits until an event is published or <paramref name="timeout"/> passes.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_wake.Reader.TryRead(out _))
        {
            return true;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _wake.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
            return _wake.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Debug, Message = "Stored event {EventId} ({TriggerType}) from {Source}")]
    private static partial void LogStored(ILogger logger, long eventId, string triggerType, string source);
}
