using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Sensors;

/// <summary>Sees the chat lines the robot receives, without slowing them down.</summary>
public interface IChatMessageObserver
{
    /// <summary>Called for every accepted line; must return at once.</summary>
    void Observe(IncomingMessage message);
}

/// <summary>
/// Turns chat lines into <c>core.chat_message</c> events, so a rule can react to words in a room. Lines are queued
/// (bounded: under a flood the surplus is dropped and counted, chat itself never waits) and stored only while some
/// enabled rule listens to chat messages, so a quiet installation does not store every line twice.
/// </summary>
public sealed partial class ChatMessageSensor(PackCatalog packs, EventPublisher events, ILogger<ChatMessageSensor> logger) : BackgroundService, IChatMessageObserver
{
    /// <summary>Lines waiting to be stored; beyond this they are dropped.</summary>
    public const int QueueLength = 10_000;

    private readonly Channel<IncomingMessage> _queue = Channel.CreateBounded<IncomingMessage>(
        new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true }); // Wait: TryWrite says false when full, and it is counted.

    private long _dropped;

    /// <summary>Lines dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Observe(IncomingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!packs.Current.Rules.Any(r => r.Enabled && r.TriggerType == BuiltInTriggers.ChatMessage))
        {
            return;
        }

        if (!_queue.Writer.TryWrite(message))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>The event payload for a line.</summary>
    public static JsonObject Payload(IncomingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new JsonObject
        {
            ["platform"] = message.Platform,
            ["room"] = message.Room.Name,
            ["room_id"] = message.Room.Id,
            ["user"] = message.Sender.Name,
            ["user_id"] = message.Sender.Id,
            ["text"] = message.Text,
            ["received_at"] = message.ReceivedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var message in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await events.PublishAsync(BuiltInTriggers.ChatMessage, Payload(message), $"chat:{message.Platform}/{message.Room.Name}", stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StoreUnavailableException or EventRejectedException)
                {
                    LogNotStored(logger, message.Platform, message.Room.Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: lines still queued are not stored.
        }
    }

    [LoggerMessage(EventId = 1570, Level = LogLevel.Warning, Message = "A chat line from {Platform}/{Room} was not stored as an event: {Reason}")]
    private static partial void LogNotStored(ILogger logger, string platform, string room, string reason);
}
