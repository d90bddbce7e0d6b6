using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Events;

namespace OpsRobot.Core.Sensors;

/// <summary>
/// What a sensor may do: emit events (stored before this returns) and read the clock. A sensor knows nothing else
/// of the engine, so one written for a pack cannot reach around the store or the rules.
/// </summary>
public interface ISensorContext
{
    /// <summary>The sensor's name, as logs and event sources show it.</summary>
    string SensorName { get; }

    TimeProvider Time { get; }

    /// <summary>Stores an event of <paramref name="triggerType"/> (a built-in, or <c>pack.trigger</c>) and returns it.</summary>
    /// <exception cref="EventRejectedException">The payload does not fit the trigger.</exception>
    Task<EventRecord> EmitAsync(string triggerType, JsonObject payload, CancellationToken cancellationToken);
}

/// <summary>
/// A source of events that packs and integrations add (an alert receiver, a queue consumer, a poller). Register it
/// with <c>services.AddSensor&lt;T&gt;()</c>; the sensor host runs it for the life of the server and starts it again,
/// after a pause, if it fails.
/// </summary>
public interface ISensor
{
    /// <summary>A unique name: <c>pack.sensor</c>.</summary>
    string Name { get; }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires, emitting events through <paramref name="context"/>.</summary>
    Task RunAsync(ISensorContext context, CancellationToken cancellationToken);
}

/// <summary>A sensor that looks at something every <see cref="Interval"/> (StackStorm's PollingSensor).</summary>
public abstract class PollingSensor : ISensor
{
    public abstract string Name { get; }

    /// <summary>Time between the end of one poll and the start of the next.</summary>
    public abstract TimeSpan Interval { get; }

    /// <summary>One look; emit an event for each thing worth one.</summary>
    protected abstract Task PollAsync(ISensorContext context, CancellationToken cancellationToken);

    public async Task RunAsync(ISensorContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        while (!cancellationToken.IsCancellationRequested)
        {
            await PollAsync(context, cancellationToken).ConfigureAwait(false);
            await Task.Delay(Interval, context.Time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Runs every registered <see cref="ISensor"/>, each in its own loop, restarting one that fails after a growing pause.</summary>
public sealed partial class SensorHost(IEnumerable<ISensor> sensors, EventPublisher events, TimeProvider time, ILogger<SensorHost> logger) : BackgroundService
{
    /// <summary>The longest pause before a failed sensor is started again.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(sensors.Select(s => RunOneAsync(s, stoppingToken)));

    private async Task RunOneAsync(ISensor sensor, CancellationToken stoppingToken)
    {
        var context = new Context(sensor.Name, events, time);
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                LogStarting(logger, sensor.Name);
                await sensor.RunAsync(context, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogFailed(logger, ex, sensor.Name, backoff.TotalSeconds);
            }

            try
            {
                await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
    }

    private sealed class Context(string name, EventPublisher events, TimeProvider time) : ISensorContext
    {
        public string SensorName { get; } = name;

        public TimeProvider Time { get; } = time;

        public Task<EventRecord> EmitAsync(string triggerType, JsonObject payload, CancellationToken cancellationToken) =>
            events.PublishAsync(triggerType, payload, "sensor:" + SensorName, cancellationToken);
    }

    [LoggerMessage(EventId = 1560, Level = LogLevel.Information, Message = "Sensor {Sensor} starting")]
    private static partial void LogStarting(ILogger logger, string sensor);

    [LoggerMessage(EventId = 1561, Level = LogLevel.Error, Message = "Sensor {Sensor} failed; starting it again in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sensor, double seconds);
}
